# Strata's set-up, demo and tests on Debian/Ubuntu. Each target installs the system
# packages that are missing first (apt-get update, then apt-get install), then builds.
#
#   make demo    convert the committed sample video to a PNG sequence in out/, and run a pipeline
#   make test    run the test suite

PACKAGES := libpng-dev zlib1g-dev libjpeg-dev libavformat-dev libavcodec-dev libswscale-dev \
            libavutil-dev libopenblas-dev libonnx-testdata pkg-config \
            libopencv-core-dev libopencv-imgproc-dev libopencv-video-dev libopencv-calib3d-dev libopencv-features2d-dev \
            libceres-dev
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
SAMPLE := samples/mandelbrot-320x180.mp4

.PHONY: deps build demo test bench clean

deps:
	@missing=$$(for p in $(PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing:" $$missing; \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

build: deps
	swift build -c release --product strata

demo: build
	.build/release/strata info $(SAMPLE)
	.build/release/strata convert $(SAMPLE) 'out/frames/%05d.png'
	.build/release/strata run Pipelines/video-to-png.json --output-dir out/walk
	.build/release/strata run Pipelines/video-depth.json --output-dir out/depth
	.build/release/strata run Pipelines/video-depth-motion.json --output-dir out/motion

test: deps
	swift test --disable-swift-testing

bench: deps
	@command -v ffmpeg >/dev/null || $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg
	bash Benchmarks/run.sh
	bash Benchmarks/runner.sh
	@python3 -c "import py360convert, cv2" 2>/dev/null || pip install -q py360convert opencv-python-headless numpy
	bash Benchmarks/sphere.sh
	@python3 -c "import torch, onnx, onnxruntime" 2>/dev/null || pip install -q torch onnx onnxruntime numpy
	bash Benchmarks/nn.sh
	bash Benchmarks/nn_process.sh
	bash Benchmarks/gemm.sh
	.build/release/strata-bench depthwise

clean:
	rm -rf .build out Benchmarks/work
