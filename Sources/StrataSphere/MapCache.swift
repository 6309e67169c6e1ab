import StrataCore

/// Recently built resample maps, so a video's frames share one map as py360convert's
/// `lru_cache` does. Bounded by bytes; the least recently used map goes first.
enum MapCache {
    /// What a map was built for.
    enum Key: Hashable {
        case equirectToCube(width: Int, height: Int, faceSize: Int, padding: Int, Interpolation)
        case cubeToEquirect(faceSize: Int, padding: Int, width: Int, height: Int, Interpolation)
        case equirectToView(width: Int, height: Int, PerspectiveView, Interpolation)
        case viewToEquirect(PerspectiveView, width: Int, height: Int, Interpolation)
        /// `nil` interpolation: the strip-copying padding.
        case cubePadding(faceSize: Int, padding: Int, Interpolation?)
    }

    static let budget = 1 << 30
    private static let stored = Mutex<(maps: [Key: ResampleMap], order: [Key])>(([:], []))

    /// The map for `key`, built by `build` unless cached.
    static func map(_ key: Key, build: () -> ResampleMap) -> ResampleMap {
        if let hit = stored.withLock({ state -> ResampleMap? in
            guard let map = state.maps[key] else { return nil }
            state.order.removeAll { $0 == key }
            state.order.append(key)
            return map
        }) { return hit }
        let map = build()
        stored.withLock { state in
            state.maps[key] = map
            state.order.removeAll { $0 == key }
            state.order.append(key)
            var bytes = state.maps.values.reduce(0) { $0 + $1.byteCount }
            while bytes > budget, state.order.count > 1 {
                let oldest = state.order.removeFirst()
                bytes -= state.maps.removeValue(forKey: oldest)?.byteCount ?? 0
            }
        }
        return map
    }

    /// Forgets every map (tests and benchmarks that measure building).
    static func removeAll() { stored.withLock { $0 = ([:], []) } }
}
