import Foundation
import StrataCore
import StrataDepth
import StrataIO
import StrataSphere

/// Strata's side of the PNG benchmark: the same work as Benchmarks/png_c_loop.c, through
/// StrataIO (decode to a planar float `Image`, encode from it again).
///
///     strata-bench png image.png ITERATIONS LEVEL [FILTER]
///     strata-bench decode clip.mp4 FRAMES
///     strata-bench runner FRAMES SIZE THREADS      (runner overhead, see RunnerBench.swift)
///     strata-bench runner-memory FRAMES SIZE      (peak memory of a run)
///     strata-bench sphere WIDTH HEIGHT REPEATS    (see SphereBench.swift)
///     strata-bench nn MODEL.onnx INPUT.npy REPEATS THREADS   (see NNBench.swift)
///     strata-bench depth CLIP.mp4 FRAMES [MODEL.onnx PRESET]  (see DepthBench.swift)
///     strata-bench pano speed|quality WIDTH HEIGHT [VIEWSIZE REPEATS]  (see PanoBench.swift)
///     strata-bench fluid WIDTH HEIGHT FRAMES       (see FluidBench.swift)
///     strata-bench fluid-video STILL WIDTH HEIGHT FRAMES OUT.mp4 FRAMES.rgb
///     strata-bench encode FRAMES.rgb WIDTH HEIGHT OUT.mp4  (VideoWriter alone, see FluidBench.swift)
///     strata-bench gemm M N K [TA TB]              (see GemmBench.swift)
///     strata-bench depthwise                       (see DepthwiseBench.swift)
///     strata-bench motion FIRST SECOND FX FY CX CY (see MotionBench.swift)
///     strata-bench walk FRAMES WIDTH HEIGHT        (see MotionBench.swift)
///     strata-bench sfm FOLDER FX FY CX CY          (see MotionBench.swift)
@main
enum StrataBench {
    static func main() throws {
        let arguments = CommandLine.arguments
        if arguments.count == 5, arguments[1] == "runner", let frames = Int(arguments[2]), let size = Int(arguments[3]),
           let threads = Int(arguments[4]) {
            try RunnerBench.overhead(frames: frames, size: size, threads: threads)
            return
        }
        if arguments.count == 5, arguments[1] == "sphere", let width = Int(arguments[2]), let height = Int(arguments[3]),
           let repeats = Int(arguments[4]) {
            SphereBench.run(width: width, height: height, repeats: repeats)
            return
        }
        if arguments.count == 6, arguments[1] == "nn", let repeats = Int(arguments[4]), let threads = Int(arguments[5]) {
            try NNBench.run(model: arguments[2], input: arguments[3], repeats: repeats, threads: threads)
            return
        }
        if arguments.count == 4 || arguments.count == 6, arguments[1] == "depth", let frames = Int(arguments[3]) {
            try DepthBench.run(clip: arguments[2], frames: frames, model: arguments.count == 6 ? arguments[4] : nil,
                               preset: arguments.count == 6 ? arguments[5] : nil)
            return
        }
        if arguments.count >= 5, arguments[1] == "pano", let width = Int(arguments[3]), let height = Int(arguments[4]) {
            if arguments[2] == "dump", arguments.count == 7, let viewSize = Int(arguments[5]) {
                try PanoBench.dump(width: width, height: height, viewSize: viewSize, folder: arguments[6])
            } else if arguments[2] == "speed" {
                try PanoBench.speed(width: width, height: height, viewSize: arguments.count > 5 ? Int(arguments[5]) ?? 256 : 256,
                                    repeats: arguments.count > 6 ? Int(arguments[6]) ?? 3 : 3,
                                    blending: arguments.count > 7 ? PanoramaBlending(rawValue: arguments[7]) ?? .feather : .feather)
            } else {
                try PanoBench.quality(width: width, height: height)
            }
            return
        }
        if arguments.count == 8, arguments[1] == "fluid-video", let width = Int(arguments[3]), let height = Int(arguments[4]),
           let frames = Int(arguments[5]) {
            try FluidBench.video(still: arguments[2], width: width, height: height, frames: frames, mp4: arguments[6], raw: arguments[7])
            return
        }
        if arguments.count == 5, arguments[1] == "walk", let frames = Int(arguments[2]), let width = Int(arguments[3]),
           let height = Int(arguments[4]) {
            try MotionBench.walk(frames: frames, width: width, height: height)
            return
        }
        if arguments.count == 7, arguments[1] == "sfm", let fx = Double(arguments[3]), let fy = Double(arguments[4]),
           let cx = Double(arguments[5]), let cy = Double(arguments[6]) {
            try MotionBench.sfm(arguments[2], fx: fx, fy: fy, cx: cx, cy: cy)
            return
        }
        if arguments.count == 6, arguments[1] == "encode", let width = Int(arguments[3]), let height = Int(arguments[4]) {
            try FluidBench.encode(raw: arguments[2], width: width, height: height, mp4: arguments[5])
            return
        }
        if arguments.count == 5, arguments[1] == "fluid", let width = Int(arguments[2]), let height = Int(arguments[3]),
           let frames = Int(arguments[4]) {
            try FluidBench.run(width: width, height: height, frames: frames)
            return
        }
        if arguments.count == 5 || arguments.count == 7, arguments[1] == "gemm", let m = Int(arguments[2]), let n = Int(arguments[3]),
           let k = Int(arguments[4]) {
            GemmBench.run(m: m, n: n, k: k, transposeA: arguments.count == 7 && arguments[5] == "1",
                          transposeB: arguments.count == 7 && arguments[6] == "1")
            return
        }
        if arguments.count == 8, arguments[1] == "motion", let fx = Double(arguments[4]), let fy = Double(arguments[5]),
           let cx = Double(arguments[6]), let cy = Double(arguments[7]) {
            try MotionBench.run(arguments[2], arguments[3], fx: fx, fy: fy, cx: cx, cy: cy)
            return
        }
        if arguments.count == 2, arguments[1] == "depthwise" {
            DepthwiseBench.run()
            return
        }
        if arguments.count == 4, arguments[1] == "runner-memory", let frames = Int(arguments[2]), let size = Int(arguments[3]) {
            try RunnerBench.memory(frames: frames, size: size)
            return
        }
        if arguments.count == 4, arguments[1] == "decode", let limit = Int(arguments[3]) {
            // Decode-only throughput: frames to planar float images, nothing written.
            let reader = try VideoReader(url: URL(fileURLWithPath: arguments[2]))
            let start = DispatchTime.now()
            var count = 0
            while count < limit, try reader.nextFrame() != nil { count += 1 }
            print(String(format: "{\"frames\": %d, \"seconds\": %.3f}", count, seconds(since: start)))
            return
        }
        guard arguments.count >= 5, arguments[1] == "png", let iterations = Int(arguments[3]), let level = Int(arguments[4]),
              let filter = PNG.Filter(rawValue: arguments.count > 5 ? arguments[5] : "adaptive") else {
            FileHandle.standardError.write(Data("usage: strata-bench png image.png iterations level [filter]\n".utf8))
            exit(64)
        }
        let data = try Data(contentsOf: URL(fileURLWithPath: arguments[2]))
        var image = Image(width: 1, height: 1, channels: 1)
        var start = DispatchTime.now()
        for _ in 0..<iterations { image = try PNG.decode(data) }
        let decode = seconds(since: start) / Double(iterations)
        var encoded = 0
        start = DispatchTime.now()
        for _ in 0..<iterations { encoded = try PNG.encode(image, compressionLevel: level, filter: filter).count }
        let encode = seconds(since: start) / Double(iterations)
        print(String(format: "{\"decode_ms\": %.2f, \"encode_ms\": %.2f, \"encoded_bytes\": %d, \"width\": %d, \"height\": %d}",
                     decode * 1e3, encode * 1e3, encoded, image.width, image.height))
    }

    static func seconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }
}
