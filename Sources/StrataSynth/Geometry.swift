import Foundation
import StrataCore

@inline(__always) func dot(_ a: Vector3, _ b: Vector3) -> Double { (a * b).sum() }
@inline(__always) func length(_ a: Vector3) -> Double { dot(a, a).squareRoot() }
@inline(__always) func normalize(_ a: Vector3) -> Vector3 { a / length(a) }

