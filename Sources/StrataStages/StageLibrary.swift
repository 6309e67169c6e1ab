import StrataCore
import StrataPipeline

/// The stages Strata registers with the runner: each stage's descriptor (used by `strata
/// validate`, `strata stages` and the JSON Schema) and the factory that builds it for a run.
public enum StageLibrary {
    /// Every built-in stage.
    public static let registry: StageRegistry = {
        var registry = StageRegistry()
        registry.register(VideoDecodeStage.descriptor) { .source(try VideoDecodeStage($0)) }
        registry.register(SequenceReadStage.descriptor) { .source(try SequenceReadStage($0)) }
        registry.register(ImageReadStage.descriptor) { .source(try ImageReadStage($0)) }
        registry.register(DepthReadStage.descriptor) { .source(try DepthReadStage($0)) }
        registry.register(SynthRenderStage.descriptor) { .source(try SynthRenderStage($0)) }
        registry.register(ImageResizeStage.descriptor) { .processor(try ImageResizeStage($0)) }
        registry.register(DepthEstimateStage.descriptor) { .processor(try DepthEstimateStage($0)) }
        registry.register(DepthAlignStage.descriptor) { .processor(try DepthAlignStage($0)) }
        registry.register(DepthColorizeStage.descriptor) { .processor(try DepthColorizeStage($0)) }
        registry.register(SphereToCubeStage.descriptor) { .processor(try SphereToCubeStage($0)) }
        registry.register(SphereFromCubeStage.descriptor) { .processor(try SphereFromCubeStage($0)) }
        registry.register(SpherePadCubeStage.descriptor) { .processor(try SpherePadCubeStage($0)) }
        registry.register(SphereToPerspectiveStage.descriptor) { .processor(try SphereToPerspectiveStage($0)) }
        registry.register(SphereToPatchesStage.descriptor) { .processor(try SphereToPatchesStage($0)) }
        registry.register(SphereFromPatchesStage.descriptor) { .processor(try SphereFromPatchesStage($0)) }
        registry.register(ImageWriteStage.descriptor) { .sink(try ImageWriteStage($0)) }
        registry.register(DepthWriteStage.descriptor) { .sink(try DepthWriteStage($0)) }
        registry.register(VideoWriteStage.descriptor) { .sink(try VideoWriteStage($0)) }
        registry.register(PointsWriteStage.descriptor) { .sink(try PointsWriteStage($0)) }
        registry.register(LayersWriteStage.descriptor) { .sink(try LayersWriteStage($0)) }
        registry.register(LayersRenderStage.descriptor) { .processor(try LayersRenderStage($0)) }
        registry.register(CameraPathStage.descriptor) { .source(try CameraPathStage($0)) }
        registry.register(FluidLoopStage.descriptor) { .source(try FluidLoopStage($0)) }
        registry.register(MotionDepthStage.descriptor) { .source(try MotionDepthStage($0)) }
        return registry
    }()
}
