import Foundation
import StrataCore
import StrataFluid
import StrataIO

/// StrataFluid's timings: densifying three arrows over a fluid covering the lower 60% of
/// a WIDTH × HEIGHT still, the projection, and rendering FRAMES loop frames to memory, and
/// composing one frame as an Image (what each frame then costs a writer).
///
///     strata-bench fluid WIDTH HEIGHT FRAMES     (FADE=steps, EVOLVE=0…1, BITS=8|16 to set those; THREADS=n)
///
/// And the MP4 of such a loop over a real still (resized to WIDTH × HEIGHT): the time to
/// compose the frames as 8-bit RGB and encode them (x264, CRF 20, preset medium, as `video.write`
/// does), and the same frames as raw RGB24 for ffmpeg to encode in its own time
/// (`Benchmarks/fluid_mp4.sh`).
///
///     strata-bench fluid-video STILL.png WIDTH HEIGHT FRAMES OUT.mp4 FRAMES.rgb
enum FluidBench {
    static func video(still path: String, width w: Int, height h: Int, frames: Int, mp4: String, raw: String) throws {
        let still = try ImageFile.read(URL(fileURLWithPath: path)).resized(width: w, height: h)
        let fluid = (0..<(w * h)).map { $0 / w >= h * 2 / 5 }
        let (fw, fh) = (Double(w), Double(h))
        let hints = [MotionHint(start: [0.2 * fw, 0.6 * fh], end: [0.3 * fw, 0.62 * fh], speed: 2),
                     MotionHint(start: [0.5 * fw, 0.8 * fh], end: [0.6 * fw, 0.8 * fh], speed: 3)]
        let field = try MotionField.densify(hints, fluid: fluid, width: w, height: h)
        let loop = try FluidLoop(frames: frames).render(still, field: field, alpha: FluidMask.feathered(fluid, width: w, feather: 4, wrap: false), bits: 8)
        // COMPOSE_THREADS=n: compose on n threads (x264's own threads share the cores).
        if let n = ProcessInfo.processInfo.environment["COMPOSE_THREADS"].flatMap(Int.init) { Parallel.maxThreads = n }
        let start = DispatchTime.now()
        let writer = try VideoWriter(url: URL(fileURLWithPath: mp4), width: w, height: h, options: .init(frameRate: 24))
        // Each frame composed into the writer's own rows, over an earlier frame of the loop.
        for t in 0..<frames {
            try writer.append(rgb24Rows: { rows, stride, held in loop.rgb24(t, into: rows, stride: stride, overFrame: held != nil) })
        }
        try writer.finish()
        let encode = StrataBench.seconds(since: start)
        // The composition alone, for the record, as the writer's rows get it.
        var scratch = [UInt8](repeating: 0, count: ((w * 3 + 63) & ~63) * h)
        let composeStart = DispatchTime.now()
        scratch.withUnsafeMutableBufferPointer { rows in
            for t in 0..<frames { loop.rgb24(t, into: rows.baseAddress!, stride: (w * 3 + 63) & ~63, overFrame: t > 0) }
        }
        let compose = StrataBench.seconds(since: composeStart)
        _ = FileManager.default.createFile(atPath: raw, contents: nil)
        let file = try FileHandle(forWritingTo: URL(fileURLWithPath: raw))
        for t in 0..<frames { try file.write(contentsOf: loop.rgb24(t)) }
        try file.close()
        print(String(format: "{\"width\": %d, \"height\": %d, \"frames\": %d, \"encoder\": \"%@\", \"compose_and_encode_s\": %.3f, \"compose_s\": %.3f}",
                     w, h, frames, writer.encoderName, encode, compose))
    }

    /// The writer alone on raw RGB24 frames read into memory first (x264, CRF 20, preset
    /// medium, 24 fps), for the same comparison with ffmpeg without a loop rendered before.
    static func encode(raw: String, width w: Int, height h: Int, mp4: String) throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: raw))
        let frameBytes = w * h * 3, frames = bytes.count / frameBytes
        // IMAGES=1: the frames as Images, which the writer converts to RGB bytes itself.
        let images = ProcessInfo.processInfo.environment["IMAGES"] == "1" ? bytes.withUnsafeBytes { all in
            (0..<frames).map { t in
                Image(width: w, height: h, channels: 3) { c, y, x in Float(all.load(fromByteOffset: t * frameBytes + (y * w + x) * 3 + c, as: UInt8.self)) / 255 }
            }
        } : nil
        // COMPOSE_THREADS=n: compose on n threads (x264's own threads share the cores).
        if let n = ProcessInfo.processInfo.environment["COMPOSE_THREADS"].flatMap(Int.init) { Parallel.maxThreads = n }
        let start = DispatchTime.now()
        let writer = try VideoWriter(url: URL(fileURLWithPath: mp4), width: w, height: h, options: .init(frameRate: 24))
        if let images {
            for image in images { try writer.append(image) }
        } else { try bytes.withUnsafeBytes { all in
            for t in 0..<frames {
                try writer.append(rgb24Rows: { rows, stride, _ in
                    for y in 0..<h { (rows + y * stride).update(from: all.baseAddress!.assumingMemoryBound(to: UInt8.self) + t * frameBytes + y * w * 3, count: w * 3) }
                })
            }
        } }
        try writer.finish()
        print(String(format: "{\"frames\": %d, \"encode_s\": %.3f}", frames, StrataBench.seconds(since: start)))
    }

    static func run(width w: Int, height h: Int, frames: Int) throws {
        if let threads = ProcessInfo.processInfo.environment["THREADS"].flatMap(Int.init) { Parallel.maxThreads = threads }
        let still = Image(width: w, height: h, channels: 3) { c, y, x in Float((x * 31 + y * 17 + c * 7) % 255) / 255 }
        let fluid = (0..<(w * h)).map { $0 / w >= h * 2 / 5 }
        let (fw, fh) = (Double(w), Double(h))
        let hints = [MotionHint(start: [0.2 * fw, 0.6 * fh], end: [0.3 * fw, 0.62 * fh], speed: 2),
                     MotionHint(start: [0.5 * fw, 0.8 * fh], end: [0.6 * fw, 0.8 * fh], speed: 3),
                     MotionHint(start: [0.8 * fw, 0.7 * fh], end: [0.9 * fw, 0.75 * fh], speed: 2)]
        var start = DispatchTime.now()
        let field = try MotionField.densify(hints, fluid: fluid, width: w, height: h)
        let densify = StrataBench.seconds(since: start)
        start = DispatchTime.now()
        let projected = field.divergenceFree()
        let project = StrataBench.seconds(since: start)
        let alpha = FluidMask.feathered(fluid, width: w, feather: 4, wrap: false)
        start = DispatchTime.now()
        let environment = ProcessInfo.processInfo.environment
        let loop = try FluidLoop(frames: frames, fade: environment["FADE"].flatMap(Int.init), evolve: environment["EVOLVE"].flatMap(Float.init) ?? 0)
        let out = loop.render(still, field: projected, alpha: alpha, bits: environment["BITS"].flatMap(Int.init) ?? 16)
        let render = StrataBench.seconds(since: start)
        // What a writer then does per frame: compose it as an Image.
        start = DispatchTime.now()
        var checksum: Float = 0
        for t in 0..<out.count { checksum += out.frame(t).pixels[w * h - 1] }
        let compose = StrataBench.seconds(since: start)
        print(String(format: "{\"isa\": \"%@\", \"bits\": %d, \"fade\": %d, \"evolve\": %.2f, \"width\": %d, \"height\": %d, \"frames\": %d, \"densify_s\": %.3f, \"project_s\": %.3f, \"render_s\": %.3f, \"compose_each_s\": %.4f, \"checksum\": %.3f}",
                     KernelISA.selected.description, out.bits, loop.fade, loop.evolve, w, h, out.count, densify, project, render, compose / Double(out.count), checksum))
    }
}
