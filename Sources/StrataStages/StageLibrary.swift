import StrataPipeline

/// The stages Strata registers with the runner. Today these are their descriptions, used
/// by `strata validate`, `strata stages` and the JSON Schema; execution lands with the
/// rest of the runner.
public enum StageLibrary {
    /// Every built-in stage.
    public static let registry = StageRegistry([
        StageDescriptor(name: "video.decode", kind: .source, doc: "Frames of a video, rotation applied, as RGB images.",
                        inputs: [PortSpec("source", .video, doc: "The video file.")],
                        outputs: [PortSpec("image", .image, doc: "Each frame, RGB 0…1.")],
                        params: [ParamSpec("step", .integer(min: 1, max: nil), default: .number(1), doc: "Take every step-th frame."),
                                 ParamSpec("autorotate", .boolean, default: .bool(true), doc: "Apply the rotation metadata.")]),
        StageDescriptor(name: "sequence.read", kind: .source, doc: "Frames of a numbered image sequence.",
                        inputs: [PortSpec("source", .imageSequence, doc: "A printf pattern such as in/%05d.png.")],
                        outputs: [PortSpec("image", .image, doc: "Each image as decoded.")],
                        params: [ParamSpec("startNumber", .integer(min: 0, max: nil), doc: "Number of the first file (default: first of 0…4).")]),
        StageDescriptor(name: "image.read", kind: .source, doc: "One still image (PNG, JPEG, PFM, NPY).",
                        inputs: [PortSpec("source", .file, doc: "The image file.")],
                        outputs: [PortSpec("image", .image)]),
        StageDescriptor(name: "image.resize", kind: .perFrame, doc: "Resample to a new size (OpenCV-compatible filters).",
                        inputs: [PortSpec("image", .image)], outputs: [PortSpec("image", .image)],
                        params: [ParamSpec("width", .integer(min: 1, max: 65536), unit: "px", doc: "Output width."),
                                 ParamSpec("height", .integer(min: 1, max: 65536), unit: "px", doc: "Output height."),
                                 ParamSpec("filter", .choice(["nearest", "bilinear", "bicubic", "area"]), default: .string("area"),
                                           doc: "Resampling filter.")]),
        StageDescriptor(name: "image.write", kind: .sink, doc: "Write each frame as a numbered image file (atomic).",
                        inputs: [PortSpec("image", .image)],
                        params: [ParamSpec("pattern", .string, default: .string("frames/%05d.png"), doc: "printf pattern under the output folder."),
                                 ParamSpec("bitDepth", .choice(["8", "16"]), default: .string("8"), doc: "PNG bits per sample."),
                                 ParamSpec("compressionLevel", .integer(min: 0, max: 9), default: .number(6), doc: "PNG zlib level."),
                                 ParamSpec("jpegQuality", .integer(min: 1, max: 100), default: .number(90), doc: "JPEG quality.")]),
        StageDescriptor(name: "depth.colorize", kind: .perFrame, doc: "A colour preview of depth, near bright.",
                        inputs: [PortSpec("depth", .depth)], outputs: [PortSpec("image", .image)],
                        params: [ParamSpec("colormap", .choice(["turbo", "inferno", "gray"]), default: .string("turbo"), doc: "Colour scale."),
                                 ParamSpec("min", .number(min: nil, max: nil), unit: "m", doc: "Depth at the far end of the scale (default: per frame)."),
                                 ParamSpec("max", .number(min: nil, max: nil), unit: "m", doc: "Depth at the near end of the scale (default: per frame).")]),
        StageDescriptor(name: "depth.write", kind: .sink, doc: "Write depth files and the depth.json sidecar (atomic).",
                        inputs: [PortSpec("depth", .depth)],
                        params: [ParamSpec("pattern", .string, default: .string("depth/%05d.png"), doc: "printf pattern: .png, .pfm or .npy."),
                                 ParamSpec("scale", .choice(["mm", "kitti", "tum"]), default: .string("mm"), doc: "16-bit PNG scale preset for metric depth.")]),
        StageDescriptor(name: "synth.render", kind: .source, doc: "Render a StrataSynth scene with exact ground truth.",
                        outputs: [PortSpec("image", .image), PortSpec("depth", .depth), PortSpec("fluid", .mask)],
                        params: [ParamSpec("scene", .string, default: .string("indoor"), doc: "indoor, street, water or a scene JSON file."),
                                 ParamSpec("camera", .choice(["equirect", "pinhole"]), default: .string("equirect"), doc: "Camera model."),
                                 ParamSpec("width", .integer(min: 1, max: 16384), default: .number(1024), unit: "px", doc: "Image width."),
                                 ParamSpec("height", .integer(min: 1, max: 16384), default: .number(512), unit: "px", doc: "Image height."),
                                 ParamSpec("fov", .number(min: 1, max: 179), default: .number(90), unit: "°", doc: "Pinhole horizontal field of view."),
                                 ParamSpec("frames", .integer(min: 1, max: nil), default: .number(1), doc: "Frames along the walk."),
                                 ParamSpec("walk", .number(min: nil, max: nil), default: .number(0), unit: "m", doc: "Distance walked forward.")]),
    ])
}
