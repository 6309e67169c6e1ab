// The kernels are inline functions in include/CStrataKernels.h; SwiftPM wants a source file.
#include "CStrataKernels.h"
