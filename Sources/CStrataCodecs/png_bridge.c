#include "strata_codecs.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const unsigned char *data;
    size_t size, offset;
    char *message;
    size_t message_size;
    int truncated;
} png_source;

typedef struct {
    unsigned char *data;
    size_t size, capacity;
    int failed;
} png_sink;

typedef struct {
    char *message;
    size_t message_size;
    int truncated;
} png_error_state;

static void on_png_error(png_structp png, png_const_charp text) {
    png_error_state *state = (png_error_state *)png_get_error_ptr(png);
    if (state && state->message && state->message_size > 0 && state->message[0] == '\0')
        snprintf(state->message, state->message_size, "%s", text);
    png_longjmp(png, 1);
}

static void on_png_warning(png_structp png, png_const_charp text) {
    (void)png; (void)text;  // Warnings (for example a bad iCCP profile) do not stop a decode.
}

static void read_from_memory(png_structp png, png_bytep out, png_size_t length) {
    png_source *src = (png_source *)png_get_io_ptr(png);
    if (src->offset + length > src->size || src->offset + length < src->offset) {
        png_error_state *state = (png_error_state *)png_get_error_ptr(png);
        state->truncated = 1;
        png_error(png, "the file ends before the image data does");
    }
    memcpy(out, src->data + src->offset, length);
    src->offset += length;
}

static void write_to_memory(png_structp png, png_bytep in, png_size_t length) {
    png_sink *sink = (png_sink *)png_get_io_ptr(png);
    if (sink->size + length > sink->capacity) {
        size_t capacity = sink->capacity ? sink->capacity : 65536;
        while (capacity < sink->size + length) capacity *= 2;
        unsigned char *grown = realloc(sink->data, capacity);
        if (!grown) { sink->failed = 1; png_error(png, "out of memory"); }
        sink->data = grown;
        sink->capacity = capacity;
    }
    memcpy(sink->data + sink->size, in, length);
    sink->size += length;
}

static void flush_nothing(png_structp png) { (void)png; }

void strata_raster_free(strata_raster *r) {
    if (!r) return;
    free(r->pixels); r->pixels = NULL;
    free(r->exif); r->exif = NULL;
}

void strata_buffer_free(void *p) { free(p); }

static int png_begin(const unsigned char *data, size_t size, char *message, size_t message_size) {
    if (message && message_size) message[0] = '\0';
    if (size < 8 || png_sig_cmp(data, 0, 8) != 0) {
        if (message) snprintf(message, message_size, "not a PNG file (bad signature)");
        return STRATA_CODEC_NOT_THIS_FORMAT;
    }
    return STRATA_CODEC_OK;
}

int strata_png_encode(const void *pixels, int width, int height, int channels, int bit_depth,
                      int level, int filter, unsigned char **out, size_t *out_size,
                      char *message, size_t message_size) {
    *out = NULL;
    *out_size = 0;
    if (message && message_size) message[0] = '\0';
    if (width <= 0 || height <= 0 || channels < 1 || channels > 4 || (bit_depth != 8 && bit_depth != 16)) {
        snprintf(message, message_size, "cannot encode %dx%d with %d channels at %d bits", width, height, channels, bit_depth);
        return STRATA_CODEC_BAD_ARGUMENT;
    }
    static const int color_types[5] = { 0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA,
                                        PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA };
    png_error_state state = { message, message_size, 0 };
    png_sink sink = { NULL, 0, 0, 0 };
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &state, on_png_error, on_png_warning);
    if (!png) return STRATA_CODEC_NO_MEMORY;
    png_infop info = png_create_info_struct(png);
    if (!info) { png_destroy_write_struct(&png, NULL); return STRATA_CODEC_NO_MEMORY; }

    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        free(rows);
        free(sink.data);
        png_destroy_write_struct(&png, &info);
        return sink.failed ? STRATA_CODEC_NO_MEMORY : STRATA_CODEC_CORRUPT;
    }
    png_set_write_fn(png, &sink, write_to_memory, flush_nothing);
    png_set_compression_level(png, level < 0 ? 6 : (level > 9 ? 9 : level));
    if (filter >= 0) png_set_filter(png, PNG_FILTER_TYPE_BASE, filter);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, bit_depth, color_types[channels],
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
#if defined(__LITTLE_ENDIAN__) || (defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
    if (bit_depth == 16) png_set_swap(png);
#endif
    size_t row_bytes = (size_t)width * channels * (bit_depth / 8);
    rows = malloc(sizeof(png_bytep) * height);
    if (!rows) { sink.failed = 1; png_error(png, "out of memory"); }
    for (int y = 0; y < height; y++) rows[y] = (png_bytep)pixels + row_bytes * y;
    png_write_image(png, rows);
    png_write_end(png, NULL);
    free(rows);
    png_destroy_write_struct(&png, &info);
    *out = sink.data;
    *out_size = sink.size;
    return STRATA_CODEC_OK;
}

struct strata_png_reader {
    png_structp png;
    png_infop info;
    png_source source;
    png_error_state state;
    size_t row_bytes;
    png_uint_32 height, next_row;
};

static void set_message(png_error_state *state, char *message, size_t message_size) {
    state->message = message;
    state->message_size = message_size;
    if (message && message_size) message[0] = '\0';
}

int strata_png_reader_open(const unsigned char *data, size_t size, uint64_t max_pixels,
                           strata_png_reader **out, strata_raster *info_out,
                           char *message, size_t message_size) {
    *out = NULL;
    memset(info_out, 0, sizeof(*info_out));
    int code = png_begin(data, size, message, message_size);
    if (code) return code;
    strata_png_reader *r = calloc(1, sizeof(*r));
    if (!r) return STRATA_CODEC_NO_MEMORY;
    set_message(&r->state, message, message_size);
    r->source.data = data;
    r->source.size = size;
    r->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &r->state, on_png_error, on_png_warning);
    if (r->png) r->info = png_create_info_struct(r->png);
    if (!r->png || !r->info) { strata_png_reader_close(r); return STRATA_CODEC_NO_MEMORY; }
    volatile int result = STRATA_CODEC_CORRUPT;
    if (setjmp(png_jmpbuf(r->png))) {
        int truncated = r->state.truncated;
        strata_png_reader_close(r);
        return truncated ? STRATA_CODEC_TRUNCATED : result;
    }
    png_set_read_fn(r->png, &r->source, read_from_memory);
    png_set_user_limits(r->png, 0x7fffffff, 0x7fffffff);
    png_set_chunk_malloc_max(r->png, 64u * 1024u * 1024u);
    png_read_info(r->png, r->info);
    png_uint_32 width = 0, height = 0;
    int bit_depth = 0, color_type = 0, interlace = 0;
    png_get_IHDR(r->png, r->info, &width, &height, &bit_depth, &color_type, &interlace, NULL, NULL);
    info_out->width = (int)width;
    info_out->height = (int)height;
    info_out->source_color_type = color_type;
    info_out->source_bit_depth = bit_depth;
    info_out->interlaced = interlace != PNG_INTERLACE_NONE;
    if (max_pixels && (uint64_t)width * (uint64_t)height > max_pixels) {
        snprintf(message, message_size, "%ux%u pixels is above the limit of %llu pixels",
                 (unsigned)width, (unsigned)height, (unsigned long long)max_pixels);
        strata_png_reader_close(r);
        return STRATA_CODEC_TOO_LARGE;
    }
    if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(r->png);
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(r->png);
    if (png_get_valid(r->png, r->info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(r->png);
#if defined(__LITTLE_ENDIAN__) || (defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
    if (bit_depth == 16) png_set_swap(r->png);
#endif
    png_set_interlace_handling(r->png);
    png_read_update_info(r->png, r->info);
    info_out->channels = png_get_channels(r->png, r->info);
    info_out->bit_depth = png_get_bit_depth(r->png, r->info);
    r->row_bytes = png_get_rowbytes(r->png, r->info);
    r->height = height;
    *out = r;
    return STRATA_CODEC_OK;
}

int strata_png_reader_read_rows(strata_png_reader *r, unsigned char *buffer, int rows,
                                char *message, size_t message_size) {
    set_message(&r->state, message, message_size);
    if (setjmp(png_jmpbuf(r->png))) return r->state.truncated ? STRATA_CODEC_TRUNCATED : STRATA_CODEC_CORRUPT;
    for (int i = 0; i < rows && r->next_row < r->height; i++, r->next_row++)
        png_read_row(r->png, buffer + r->row_bytes * (size_t)i, NULL);
    if (r->next_row == r->height) {
        png_read_end(r->png, NULL);
        r->next_row++;  // read_end runs once
    }
    return STRATA_CODEC_OK;
}

int strata_png_reader_read_image(strata_png_reader *r, unsigned char *buffer, char *message, size_t message_size) {
    set_message(&r->state, message, message_size);
    png_bytep *volatile rows = malloc(sizeof(png_bytep) * (r->height ? r->height : 1));
    if (!rows) return STRATA_CODEC_NO_MEMORY;
    if (setjmp(png_jmpbuf(r->png))) {
        free(rows);
        return r->state.truncated ? STRATA_CODEC_TRUNCATED : STRATA_CODEC_CORRUPT;
    }
    for (png_uint_32 y = 0; y < r->height; y++) rows[y] = buffer + r->row_bytes * y;
    png_read_image(r->png, rows);
    png_read_end(r->png, NULL);
    r->next_row = r->height + 1;
    free(rows);
    return STRATA_CODEC_OK;
}

void strata_png_reader_close(strata_png_reader *r) {
    if (!r) return;
    if (r->png) png_destroy_read_struct(&r->png, r->info ? &r->info : NULL, NULL);
    free(r);
}
