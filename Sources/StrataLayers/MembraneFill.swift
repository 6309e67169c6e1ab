import StrataCore

/// Smooth extension of a field into a region (a membrane: Laplace's equation inside the
/// region, the known values held on its border), on the grid solver StrataDepth's
/// gradient-domain blending uses. Depth continues the layer's surface behind what hides it.
enum MembraneFill {
    /// `values` with every pixel of `region` replaced by the membrane over it; `known`
    /// pixels next to the region are its border. Rows wrap when `wrap` (an equirect).
    /// A part of the region that touches no known pixel takes the mean of the border.
    static func fill(_ values: [Float], known: [Bool], region: [Bool], width: Int, height: Int, wrap: Bool) -> [Float] {
        let count = width * height
        var right = [Float](repeating: 0, count: count), down = right, anchor = right, b = right
        var borderSum = 0.0, borderCount = 0
        for i in 0..<count where region[i] {
            let (x, y) = (i % width, i / width)
            var neighbours: [Int] = []
            if x + 1 < width || wrap { neighbours.append(y * width + (x + 1) % width) }
            if x > 0 || wrap { neighbours.append(y * width + (x + width - 1) % width) }
            if y > 0 { neighbours.append(i - width) }
            if y + 1 < height { neighbours.append(i + width) }
            for j in neighbours where known[j] && !region[j] {
                // An edge to a held value: on the diagonal and the right-hand side.
                anchor[i] += 1
                b[i] += values[j]
                borderSum += Double(values[j])
                borderCount += 1
            }
            if x + 1 < width || wrap, region[y * width + (x + 1) % width] { right[i] = 1 }
            if y + 1 < height, region[i + width] { down[i] = 1 }
        }
        guard borderCount > 0 else { return values }
        // A faint pull to the border's mean keeps parts with no border of their own defined.
        let mean = Float(borderSum / Double(borderCount)), faint: Float = 1e-4
        for i in 0..<count where region[i] { anchor[i] += faint; b[i] += faint * mean }
        let system = GridPoisson(GridPoisson.Level(width: width, height: height, right: right, down: down, poles: [], anchor: anchor))
        var x = [Float](repeating: 0, count: count)
        for i in 0..<count where region[i] { x[i] = mean }
        system.solve(b, &x, tolerance: 1e-5)
        var out = values
        for i in 0..<count where region[i] { out[i] = x[i] }
        return out
    }
}
