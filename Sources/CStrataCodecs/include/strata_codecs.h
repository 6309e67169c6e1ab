// C plumbing for libpng and libjpeg. Both libraries report errors by longjmp; every
// setjmp lives in this target's .c files, so no longjmp ever crosses a Swift frame.
#ifndef STRATA_CODECS_H
#define STRATA_CODECS_H

#include <stddef.h>
#include <stdint.h>

/// Result codes shared by the codec calls.
enum {
    STRATA_CODEC_OK = 0,
    STRATA_CODEC_NOT_THIS_FORMAT = 1,  ///< the signature is not that of the format
    STRATA_CODEC_CORRUPT = 2,          ///< the library rejected the data; message says why
    STRATA_CODEC_TRUNCATED = 3,        ///< the data ended before the image did
    STRATA_CODEC_TOO_LARGE = 4,        ///< width × height above the caller's pixel limit
    STRATA_CODEC_NO_MEMORY = 5,
    STRATA_CODEC_BAD_ARGUMENT = 6
};

/// A decoded raster: interleaved samples, 8-bit, or 16-bit in host byte order.
typedef struct {
    int width, height, channels, bit_depth;
    int source_color_type, source_bit_depth, interlaced;
    unsigned char *pixels;
    /// JPEG only: the raw EXIF (APP1 payload after "Exif\0\0"), or NULL.
    unsigned char *exif;
    size_t exif_size;
    /// JPEG only: 1 when 4-channel output is Adobe-style inverted CMYK.
    int inverted_cmyk;
    /// JPEG only: source colour space as libjpeg names it (J_COLOR_SPACE).
    int jpeg_color_space;
} strata_raster;

void strata_raster_free(strata_raster *r);
void strata_buffer_free(void *p);

/// A PNG being decoded: opened (header and transforms to 8- or 16-bit gray, gray+alpha,
/// RGB or RGBA), then read a band of rows at a time (non-interlaced images), so that the
/// caller can convert one band while libpng decodes the next, or whole.
typedef struct strata_png_reader strata_png_reader;

/// Starts reading: fills width, height, channels, bit_depth and interlaced in `info`.
int strata_png_reader_open(const unsigned char *data, size_t size, uint64_t max_pixels,
                           strata_png_reader **reader, strata_raster *info,
                           char *message, size_t message_size);

/// Decodes the next `rows` rows into `buffer` (interleaved, 16-bit samples in host order);
/// after the last row it also checks the end of the file.
int strata_png_reader_read_rows(strata_png_reader *reader, unsigned char *buffer, int rows,
                                char *message, size_t message_size);

/// Decodes the whole image into `buffer` (height × row bytes): the way for Adam7 files.
int strata_png_reader_read_image(strata_png_reader *reader, unsigned char *buffer,
                                 char *message, size_t message_size);

void strata_png_reader_close(strata_png_reader *reader);

/// Encodes interleaved 8- or 16-bit (host order) samples as PNG into a malloc'd buffer.
/// filter: -1 libpng's adaptive default, otherwise a PNG_FILTER_* mask.
int strata_png_encode(const void *pixels, int width, int height, int channels, int bit_depth,
                      int level, int filter, unsigned char **out, size_t *out_size,
                      char *message, size_t message_size);

/// Decodes a JPEG held in memory to gray, RGB or CMYK (4 channels), collecting EXIF.
int strata_jpeg_decode(const unsigned char *data, size_t size, uint64_t max_pixels,
                       strata_raster *out, char *message, size_t message_size);

/// Encodes interleaved 8-bit gray (1), RGB (3) or CMYK (4) as baseline JPEG.
int strata_jpeg_encode(const unsigned char *pixels, int width, int height, int channels,
                       int quality, const unsigned char *exif, size_t exif_size,
                       unsigned char **out, size_t *out_size, char *message, size_t message_size);

/// zlib's CRC-32 of `size` bytes, continuing `crc` (0 to start).
uint32_t strata_crc32(uint32_t crc, const unsigned char *data, size_t size);

#endif
