import Foundation
import StrataCore

/// glTF 2.0 binary (`.glb`), the scene format Blender, three.js and every web viewer load:
/// textured triangle meshes, one node each, their images embedded as PNG, unlit
/// (`KHR_materials_unlit`: the colours are the photo's, not to be lit again) and alpha
/// blended.
public enum GLB {
    /// One textured mesh. Positions in Strata's camera frame (x right, y up, z forward);
    /// they are written in glTF's (z towards the viewer) by negating z, with the triangles'
    /// order turned to match. Texture coordinates: u right, v down, 0…1 across the image.
    public struct Mesh: Sendable {
        public var name: String
        public var positions: [SIMD3<Float>]
        public var uvs: [SIMD2<Float>]
        /// Counter-clockwise as seen from the camera.
        public var triangles: [SIMD3<UInt32>]
        /// RGBA, straight alpha.
        public var texture: Image

        public init(name: String, positions: [SIMD3<Float>], uvs: [SIMD2<Float>], triangles: [SIMD3<UInt32>], texture: Image) {
            (self.name, self.positions, self.uvs, self.triangles, self.texture) = (name, positions, uvs, triangles, texture)
        }
    }

    public static func encode(_ meshes: [Mesh]) throws -> Data {
        var binary = Data()
        var bufferViews: [[String: Any]] = [], accessors: [[String: Any]] = []
        var gltfMeshes: [[String: Any]] = [], materials: [[String: Any]] = [], textures: [[String: Any]] = [], images: [[String: Any]] = []
        /// Appends `bytes` 4-byte aligned as a buffer view; returns its index.
        func view(_ bytes: Data, target: Int?) -> Int {
            while binary.count % 4 != 0 { binary.append(0) }
            var entry: [String: Any] = ["buffer": 0, "byteOffset": binary.count, "byteLength": bytes.count]
            if let target { entry["target"] = target }
            binary.append(bytes)
            bufferViews.append(entry)
            return bufferViews.count - 1
        }
        func floats(_ values: [Float]) -> Data { values.withUnsafeBytes { Data($0) } }
        for (k, mesh) in meshes.enumerated() {
            precondition(mesh.positions.count == mesh.uvs.count, "one texture coordinate per vertex")
            let flipped = mesh.positions.map { SIMD3<Float>($0.x, $0.y, -$0.z) }
            let position = view(floats(flipped.flatMap { [$0.x, $0.y, $0.z] }), target: 34962)
            var low = SIMD3<Float>(repeating: 0), high = low
            if let first = flipped.first {
                (low, high) = (first, first)
                for p in flipped { low = pointwiseMin(low, p); high = pointwiseMax(high, p) }
            }
            accessors.append(["bufferView": position, "componentType": 5126, "count": flipped.count, "type": "VEC3",
                              "min": [low.x, low.y, low.z].map(Double.init), "max": [high.x, high.y, high.z].map(Double.init)])
            let uv = view(floats(mesh.uvs.flatMap { [$0.x, $0.y] }), target: 34962)
            accessors.append(["bufferView": uv, "componentType": 5126, "count": mesh.uvs.count, "type": "VEC2"])
            // z negated mirrors the scene: the order turns so that front faces stay front.
            let indices = mesh.triangles.flatMap { [$0.x, $0.z, $0.y] }
            let indexView = view(indices.withUnsafeBytes { Data($0) }, target: 34963)
            accessors.append(["bufferView": indexView, "componentType": 5125, "count": indices.count, "type": "SCALAR"])
            let png = view(try PNG.encode(mesh.texture), target: nil)
            images.append(["bufferView": png, "mimeType": "image/png"])
            textures.append(["source": k, "sampler": 0])
            materials.append(["name": mesh.name, "alphaMode": "BLEND", "doubleSided": true,
                              "pbrMetallicRoughness": ["baseColorTexture": ["index": k], "metallicFactor": 0, "roughnessFactor": 1],
                              "extensions": ["KHR_materials_unlit": [String: Any]()]])
            gltfMeshes.append(["name": mesh.name, "primitives": [["attributes": ["POSITION": 3 * k, "TEXCOORD_0": 3 * k + 1],
                                                                   "indices": 3 * k + 2, "material": k, "mode": 4]]])
        }
        while binary.count % 4 != 0 { binary.append(0) }
        let document: [String: Any] = [
            "asset": ["version": "2.0", "generator": "Strata"],
            "extensionsUsed": ["KHR_materials_unlit"],
            "scene": 0,
            "scenes": [["nodes": Array(meshes.indices)]],
            "nodes": meshes.enumerated().map { ["name": $0.element.name, "mesh": $0.offset] },
            "meshes": gltfMeshes, "materials": materials, "textures": textures, "images": images,
            "samplers": [["magFilter": 9729, "minFilter": 9729, "wrapS": 33071, "wrapT": 33071]],
            "accessors": accessors, "bufferViews": bufferViews, "buffers": [["byteLength": binary.count]],
        ]
        var json = try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])
        while json.count % 4 != 0 { json.append(0x20) }
        var out = Data()
        func u32(_ v: Int) { withUnsafeBytes(of: UInt32(v).littleEndian) { out.append(contentsOf: $0) } }
        u32(0x4654_6C67); u32(2); u32(12 + 8 + json.count + 8 + binary.count)
        u32(json.count); u32(0x4E4F_534A); out.append(json)
        u32(binary.count); u32(0x004E_4942); out.append(binary)
        return out
    }

    /// Writes the scene atomically.
    public static func write(_ meshes: [Mesh], to url: URL) throws { try AtomicFile.write(try encode(meshes), to: url) }
}
