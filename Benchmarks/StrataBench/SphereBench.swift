import Foundation
import StrataCore
import StrataSphere

/// StrataSphere's side of Benchmarks/sphere.sh: equirect → cube (6 × W/4), cube →
/// equirect, and equirect → 20 tangent patches on a float32 RGB panorama, maps cached
/// (built once, outside the timing, as py360convert's lru_cache does).
enum SphereBench {
    static func run(width: Int, height: Int, repeats: Int) {
        if let threads = ProcessInfo.processInfo.environment["THREADS"].flatMap(Int.init) { Parallel.maxThreads = threads }
        let pano = Image(width: width, height: height, channels: 3) { c, y, x in
            Float((x * 31 + y * 17 + c * 7) % 255) / 255
        }
        let faceSize = width / 4
        let patches = TangentLayout.icosahedron(level: 0).patches(size: width / 8)
        // Warm the caches (and the pages of the outputs).
        let cube = pano.equirectToCube(faceSize: faceSize)
        _ = cube.toEquirect(width: width, height: height)
        _ = pano.equirectToPerspective(patches)

        func best(_ body: () -> Void) -> Double {
            var times: [Double] = []
            for _ in 0..<repeats {
                let start = DispatchTime.now()
                body()
                times.append(StrataBench.seconds(since: start))
            }
            return times.min()! * 1e3
        }
        // FACES=1: each cube face alone, as a perspective view (the up and down faces read
        // twice the source lines a side face does).
        if ProcessInfo.processInfo.environment["FACES"] != nil {
            for face in CubeFace.allCases {
                let view = PerspectiveView(face: face, faceSize: faceSize)
                _ = pano.equirectToPerspective(view)
                print(face, String(format: "%.2f ms", best { _ = pano.equirectToPerspective(view) }))
            }
        }
        let e2c = best { _ = pano.equirectToCube(faceSize: faceSize) }
        let c2e = best { _ = cube.toEquirect(width: width, height: height) }
        let e2t = best { _ = pano.equirectToPerspective(patches) }
        print(String(format: "{\"width\": %d, \"height\": %d, \"threads\": %d, \"e2c_ms\": %.2f, \"c2e_ms\": %.2f, \"e2patches_ms\": %.2f, \"patch_size\": %d, \"patch_fov\": %.4f}",
                     width, height, Parallel.threadCount, e2c, c2e, e2t, width / 8, patches[0].fov))
    }
}
