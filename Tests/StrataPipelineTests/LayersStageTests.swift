import Foundation
import StrataCore
import StrataIO
import StrataPipeline
import StrataStages
import XCTest

/// `layers.write` in a run: files that read back, an OpenRaster archive checked by a reader
/// written here (CRC-32 by its own table, not zlib's).
final class LayersStageTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("strata-layers-\(UUID().uuidString)")
        addTeardownBlock { [folder] in try? FileManager.default.removeItem(at: folder!) }
    }

    func pipeline(_ params: String) -> Data {
        Data("""
        { "version": 1, "nodes": [
          { "id": "render", "stage": "synth.render", "params": { "scene": "indoor", "camera": "equirect", "width": 128, "height": 64,
                                                                 "frames": 1, "supersampling": 1 } },
          { "id": "layers", "stage": "layers.write", "inputs": { "image": "render.image", "depth": "render.depth" }, "params": { \(params) } }
        ] }
        """.utf8)
    }

    /// The stored entries of a ZIP, each checked against its CRC-32.
    static func unzip(_ data: Data) throws -> [(name: String, data: Data)] {
        let bytes = [UInt8](data)
        func u16(_ i: Int) -> Int { Int(bytes[i]) | Int(bytes[i + 1]) << 8 }
        func u32(_ i: Int) -> UInt32 { UInt32(u16(i)) | UInt32(u16(i + 2)) << 16 }
        var table = [UInt32](repeating: 0, count: 256)
        for n in 0..<256 {
            var c = UInt32(n)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
            table[n] = c
        }
        var entries: [(String, Data)] = []
        var i = 0
        while u32(i) == 0x0403_4b50 {
            XCTAssertEqual(u16(i + 8), 0, "stored")
            let (crc, size, nameLength, extra) = (u32(i + 14), Int(u32(i + 18)), u16(i + 26), u16(i + 28))
            let name = String(decoding: bytes[(i + 30)..<(i + 30 + nameLength)], as: UTF8.self)
            let start = i + 30 + nameLength + extra
            let body = bytes[start..<(start + size)]
            var c: UInt32 = 0xFFFF_FFFF
            for b in body { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
            XCTAssertEqual(c ^ 0xFFFF_FFFF, crc, "CRC of \(name)")
            entries.append((name, Data(body)))
            i = start + size
        }
        XCTAssertEqual(u32(i), 0x0201_4b50, "the central directory follows the entries")
        return entries
    }

    func testAPanoramaBecomesLayerFilesAndAnOpenRasterThatReadBack() throws {
        let run = try PipelineRun(data: pipeline(#""layers": 3, "fillBand": 8"#), registry: StageLibrary.registry,
                                  options: RunOptions(outputDirectory: folder))
        XCTAssertEqual(try run.run().processed, 1)
        let out = folder.appendingPathComponent("layers/00001")
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("layers.json"))) as! [String: Any]
        let layers = summary["layers"] as! [[String: Any]]
        XCTAssertEqual(layers.count, 3)
        XCTAssertEqual(summary["wrap"] as? Bool, true, "an equirect wraps")
        // Every pixel is visible in exactly one layer.
        XCTAssertEqual(layers.map { $0["visiblePixels"] as! Int }.reduce(0, +), 128 * 64)
        var images: [Image] = []
        for k in 0..<3 {
            let layer = try PNG.read(out.appendingPathComponent("layer-\(k).png"))
            XCTAssertEqual([layer.width, layer.height, layer.channels], [128, 64, 4])
            images.append(layer)
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("depth-\(k).png").path))
        }
        let sidecar = try XCTUnwrap(try DepthSidecar.read(inFolder: out))
        XCTAssertEqual(sidecar.kind, .metric)
        XCTAssertEqual(sidecar.projection, .equirectangular)

        let entries = try Self.unzip(try Data(contentsOf: folder.appendingPathComponent("layers/00001.ora")))
        XCTAssertEqual(entries.first?.name, "mimetype")
        XCTAssertEqual(entries.first.map { String(decoding: $0.data, as: UTF8.self) }, "image/openraster")
        let names = entries.map(\.name)
        XCTAssertEqual(Set(names), ["mimetype", "stack.xml", "data/layer0.png", "data/layer1.png", "data/layer2.png",
                                    "mergedimage.png", "Thumbnails/thumbnail.png"])
        let stack = String(decoding: entries.first { $0.name == "stack.xml" }!.data, as: UTF8.self)
        XCTAssertTrue(stack.contains(#"<image version="0.0.5" w="128" h="64">"#), stack)
        // Top first: the nearest layer is listed first.
        let order = ["data/layer0.png", "data/layer1.png", "data/layer2.png"].map { stack.range(of: $0)!.lowerBound }
        XCTAssertEqual(order, order.sorted())
        for k in 0..<3 {
            let inside = try PNG.decode(entries.first { $0.name == "data/layer\(k).png" }!.data)
            XCTAssertEqual(inside, images[k], "layer \(k) in the archive is the layer PNG")
        }
        let thumbnail = try PNG.decode(entries.first { $0.name == "Thumbnails/thumbnail.png" }!.data)
        XCTAssertLessThanOrEqual(max(thumbnail.width, thumbnail.height), 256)
    }

    /// A binary little-endian PLY of float properties (and uchar colours), parsed here:
    /// the property names and one row of values per vertex.
    static func readPLY(_ data: Data) throws -> (names: [String], rows: [[Float]]) {
        let end = try XCTUnwrap(data.range(of: Data("end_header\n".utf8)))
        let header = String(decoding: data[..<end.lowerBound], as: UTF8.self).split(separator: "\n")
        XCTAssertEqual(header.prefix(2), ["ply", "format binary_little_endian 1.0"])
        let count = Int(header.first { $0.hasPrefix("element vertex ") }!.split(separator: " ")[2])!
        let properties = header.filter { $0.hasPrefix("property ") }.map { $0.split(separator: " ") }
        let bytes = [UInt8](data[end.upperBound...])
        var rows: [[Float]] = [], o = 0
        for _ in 0..<count {
            var row: [Float] = []
            for p in properties {
                if p[1] == "float" {
                    row.append(Float(bitPattern: (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[o + $1]) << (8 * UInt32($1)) }))
                    o += 4
                } else {
                    row.append(Float(bytes[o]))
                    o += 1
                }
            }
            rows.append(row)
        }
        XCTAssertEqual(o, bytes.count, "nothing after the vertices")
        return (properties.map { String($0[2]) }, rows)
    }

    /// Splats in the 3DGS layout: each faces the camera (its quaternion turns z onto its
    /// own ray), is as wide as a pixel at its distance, and carries a valid colour and
    /// opacity; the point cloud holds the same points.
    func testSplatsAndPointsAreThe3DGSLayoutFacingTheCamera() throws {
        let run = try PipelineRun(data: pipeline(#""layers": 2, "fillBand": 4, "step": 4, "ora": false"#), registry: StageLibrary.registry,
                                  options: RunOptions(outputDirectory: folder))
        _ = try run.run()
        let out = folder.appendingPathComponent("layers/00001")
        let splats = try Self.readPLY(try Data(contentsOf: out.appendingPathComponent("splats.ply")))
        XCTAssertEqual(splats.names, ["x", "y", "z", "f_dc_0", "f_dc_1", "f_dc_2", "opacity", "scale_0", "scale_1", "scale_2",
                                      "rot_0", "rot_1", "rot_2", "rot_3"])
        let points = try Self.readPLY(try Data(contentsOf: out.appendingPathComponent("points.ply")))
        XCTAssertEqual(points.rows.count, splats.rows.count)
        XCTAssertGreaterThanOrEqual(splats.rows.count, 32 * 16, "every sampled pixel at least once")
        for (splat, point) in zip(splats.rows, points.rows) {
            let p = SIMD3<Float>(splat[0], splat[1], splat[2])
            XCTAssertEqual(Array(point[0..<3]), Array(splat[0..<3]))
            let distance = (p * p).sum().squareRoot()
            let u = p / distance
            // q = (w, x, y, z) applied to (0, 0, 1).
            let (w, x, y, z) = (splat[10], splat[11], splat[12], splat[13])
            XCTAssertEqual(w * w + x * x + y * y + z * z, 1, accuracy: 1e-4)
            let turned = SIMD3<Float>(2 * (x * z + w * y), 2 * (y * z - w * x), 1 - 2 * (x * x + y * y))
            XCTAssertEqual(turned.x, u.x, accuracy: 1e-3); XCTAssertEqual(turned.y, u.y, accuracy: 1e-3); XCTAssertEqual(turned.z, u.z, accuracy: 1e-3)
            // σ across the ray: 0.6 of the footprint of 4 pixels of π / 64 radian.
            XCTAssertEqual(exp(splat[7]), 0.6 * distance * Float.pi / 64 * 4, accuracy: 1e-3 * distance)
            for c in 3..<6 { XCTAssertTrue((0...1).contains(0.5 + 0.28209479 * splat[c]), "colour in 0…1") }
            XCTAssertGreaterThan(1 / (1 + exp(-splat[6])), 0)
        }
    }

    /// The meshes: within the triangle budget for the whole scene, every triangle facing
    /// the camera and none stretched across a depth discontinuity, and the simplification
    /// recorded (its finest step and tolerance).
    func testLayerMeshesKeepTheBudgetFaceTheCameraAndAreCutAtDiscontinuities() throws {
        let run = try PipelineRun(data: pipeline(#""layers": 2, "fillBand": 4, "triangles": 3000, "points": false, "splats": false, "ora": false"#),
                                  registry: StageLibrary.registry, options: RunOptions(outputDirectory: folder))
        _ = try run.run()
        let out = folder.appendingPathComponent("layers/00001")
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("layers.json"))) as! [String: Any]
        let step = try XCTUnwrap(summary["meshStep"] as? Int)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(summary["meshTolerance"] as? Double), 0)
        var total = 0
        for k in 0..<2 {
            let data = try Data(contentsOf: out.appendingPathComponent("mesh-\(k).ply"))
            let end = try XCTUnwrap(data.range(of: Data("end_header\n".utf8)))
            let header = String(decoding: data[..<end.lowerBound], as: UTF8.self)
            func count(_ element: String) -> Int { Int(header.split(separator: "\n").first { $0.hasPrefix("element \(element) ") }!.split(separator: " ")[2])! }
            let (vertices, faces) = (count("vertex"), count("face"))
            XCTAssertTrue(header.contains("property list uchar int vertex_indices"), header)
            let bytes = [UInt8](data[end.upperBound...])
            XCTAssertEqual(bytes.count, vertices * 16 + faces * 13)
            func float(_ o: Int) -> Float { Float(bitPattern: (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[o + $1]) << (8 * UInt32($1)) }) }
            func int(_ o: Int) -> Int { Int((0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[o + $1]) << (8 * UInt32($1)) }) }
            let positions = (0..<vertices).map { SIMD3<Float>(float($0 * 16), float($0 * 16 + 4), float($0 * 16 + 8)) }
            var facing = 0
            for f in 0..<faces {
                let o = vertices * 16 + f * 13
                XCTAssertEqual(bytes[o], 3)
                let t = [int(o + 1), int(o + 5), int(o + 9)]
                XCTAssertTrue(t.allSatisfy { $0 < vertices })
                let (a, b, c) = (positions[t[0]], positions[t[1]], positions[t[2]])
                let distances = [a, b, c].map { ($0 * $0).sum().squareRoot() }
                // Merged cells span several grid steps; each step may change the distance by
                // the jump the finest triangles allow (a pixel is π/64 of the 128×64 equirect).
                let angle = { (p: SIMD3<Float>, q: SIMD3<Float>) in acos(min(1, (p * q).sum() / ((p * p).sum() * (q * q).sum()).squareRoot())) }
                let span = max(angle(a, b), angle(b, c), angle(c, a)) / (Float.pi / 64) / Float(step)
                let steps = max(1, span.rounded(.up))
                XCTAssertLessThanOrEqual(distances.max()!, distances.min()! * pow(1 + 0.04 * Float(step), steps) * 1.0001, "a triangle across a discontinuity")
                let (u, v) = (b - a, c - a)
                let normal = SIMD3<Float>(u.y * v.z - u.z * v.y, u.z * v.x - u.x * v.z, u.x * v.y - u.y * v.x)
                if (normal * (a + b + c)).sum() < 0 { facing += 1 }
            }
            XCTAssertEqual(facing, faces, "layer \(k): every triangle faces the camera")
            total += faces
        }
        XCTAssertGreaterThan(total, 1000)
        XCTAssertLessThanOrEqual(total, 3000, "the budget is for the whole scene")
    }

    /// scene.glb against the glTF 2.0 rules a validator checks: header and chunk lengths,
    /// 4-byte alignment, every buffer view inside the buffer, accessors that fit their views,
    /// POSITION with its min and max, indices below the vertex count, embedded PNGs that
    /// are the layers, and triangles facing the default camera (looking along −z).
    func testTheGLBSceneFollowsTheGLTFRules() throws {
        let run = try PipelineRun(data: pipeline(#""layers": 2, "fillBand": 4, "triangles": 3000, "points": false, "splats": false, "ora": false, "meshes": false"#),
                                  registry: StageLibrary.registry, options: RunOptions(outputDirectory: folder))
        _ = try run.run()
        let out = folder.appendingPathComponent("layers/00001")
        let bytes = [UInt8](try Data(contentsOf: out.appendingPathComponent("scene.glb")))
        func u32(_ o: Int) -> Int { Int((0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[o + $1]) << (8 * UInt32($1)) }) }
        XCTAssertEqual(Array(bytes[0..<4]), Array("glTF".utf8))
        XCTAssertEqual(u32(4), 2)
        XCTAssertEqual(u32(8), bytes.count)
        let jsonLength = u32(12)
        XCTAssertEqual(u32(16), 0x4E4F_534A)
        XCTAssertEqual(jsonLength % 4, 0)
        let json = try JSONSerialization.jsonObject(with: Data(bytes[20..<(20 + jsonLength)])) as! [String: Any]
        let binStart = 20 + jsonLength
        XCTAssertEqual(u32(binStart + 4), 0x004E_4942)
        let bin = Array(bytes[(binStart + 8)..<(binStart + 8 + u32(binStart))])
        XCTAssertEqual(binStart + 8 + bin.count, bytes.count)
        XCTAssertEqual((json["asset"] as! [String: Any])["version"] as? String, "2.0")
        XCTAssertEqual((json["buffers"] as! [[String: Any]]).first?["byteLength"] as? Int, bin.count)
        let views = json["bufferViews"] as! [[String: Any]]
        for v in views {
            let (offset, length) = (v["byteOffset"] as! Int, v["byteLength"] as! Int)
            XCTAssertEqual(offset % 4, 0)
            XCTAssertLessThanOrEqual(offset + length, bin.count)
        }
        let accessors = json["accessors"] as! [[String: Any]]
        func floats(_ a: [String: Any]) -> [Float] {
            let v = views[a["bufferView"] as! Int]
            let o = v["byteOffset"] as! Int
            let n = (a["count"] as! Int) * ["VEC3": 3, "VEC2": 2, "SCALAR": 1][a["type"] as! String]!
            XCTAssertLessThanOrEqual(4 * n, v["byteLength"] as! Int)
            return (0..<n).map { Float(bitPattern: UInt32(u32At(bin, o + 4 * $0))) }
        }
        func u32At(_ b: [UInt8], _ o: Int) -> Int { Int((0..<4).reduce(UInt32(0)) { $0 | UInt32(b[o + $1]) << (8 * UInt32($1)) }) }
        let meshes = json["meshes"] as! [[String: Any]]
        XCTAssertEqual(meshes.count, 2)
        let images = json["images"] as! [[String: Any]]
        for (k, mesh) in meshes.enumerated() {
            let primitive = (mesh["primitives"] as! [[String: Any]])[0]
            let attributes = primitive["attributes"] as! [String: Int]
            let position = accessors[attributes["POSITION"]!]
            XCTAssertEqual(position["componentType"] as? Int, 5126)
            let p = floats(position)
            let count = position["count"] as! Int
            let (low, high) = (position["min"] as! [Double], position["max"] as! [Double])
            for c in 0..<3 {
                let axis = stride(from: c, to: p.count, by: 3).map { Double(p[$0]) }
                XCTAssertEqual(axis.min()!, low[c], accuracy: 1e-5); XCTAssertEqual(axis.max()!, high[c], accuracy: 1e-5)
            }
            let uv = floats(accessors[attributes["TEXCOORD_0"]!])
            XCTAssertTrue(uv.allSatisfy { (0...1).contains($0) })
            let indexAccessor = accessors[primitive["indices"] as! Int]
            XCTAssertEqual(indexAccessor["componentType"] as? Int, 5125)
            let iv = views[indexAccessor["bufferView"] as! Int]
            let indices = (0..<(indexAccessor["count"] as! Int)).map { u32At(bin, (iv["byteOffset"] as! Int) + 4 * $0) }
            XCTAssertEqual(indices.count % 3, 0)
            XCTAssertTrue(indices.allSatisfy { $0 < count })
            // Front faces towards the default camera at the origin.
            for t in stride(from: 0, to: indices.count, by: 3) {
                let v = (0..<3).map { SIMD3<Float>(p[3 * indices[t + $0]], p[3 * indices[t + $0] + 1], p[3 * indices[t + $0] + 2]) }
                let (a, b) = (v[1] - v[0], v[2] - v[0])
                let normal = SIMD3<Float>(a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x)
                XCTAssertLessThan((normal * (v[0] + v[1] + v[2])).sum(), 0, "layer \(k) triangle \(t / 3) faces away")
            }
            // The texture is the layer.
            let image = images[((json["textures"] as! [[String: Any]])[k]["source"] as! Int)]
            XCTAssertEqual(image["mimeType"] as? String, "image/png")
            let pv = views[image["bufferView"] as! Int]
            let png = Data(bin[(pv["byteOffset"] as! Int)..<((pv["byteOffset"] as! Int) + (pv["byteLength"] as! Int))])
            XCTAssertEqual(try PNG.decode(png), try PNG.read(out.appendingPathComponent("layer-\(k).png")))
        }
    }

    func testBadLayerParamsAreRefusedByName() throws {
        for (params, pointer) in [(#""layers": 9"#, "/nodes/1/params/layers"), (#""pattern": "layers/all""#, "/nodes/1/params/pattern"),
                                  (#""sequence": "seq/%05d.png""#, "/nodes/1/params/sequence"), (#""reach": -1"#, "/nodes/1/params/reach")] {
            XCTAssertThrowsError(try PipelineRun(data: pipeline(params), registry: StageLibrary.registry, options: RunOptions(outputDirectory: folder))) { error in
                let diagnostics = (error as? PipelineError)?.diagnostics ?? []
                XCTAssertEqual(diagnostics.first?.pointer, pointer, "\(params): \(diagnostics)")
            }
        }
    }
}
