// zlib's CRC-32 for the ZIP containers StrataIO writes (OpenRaster).
#include <zlib.h>

#include "strata_codecs.h"

uint32_t strata_crc32(uint32_t crc, const unsigned char *data, size_t size) {
    // zlib takes lengths as uInt: feed large buffers in slices.
    while (size > 0) {
        uInt slice = size > (1u << 30) ? (1u << 30) : (uInt)size;
        crc = (uint32_t)crc32(crc, data, slice);
        data += slice;
        size -= slice;
    }
    return crc;
}
