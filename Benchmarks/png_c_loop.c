// The peer for Strata's PNG benchmark: a plain C loop over libpng that decodes a PNG held
// in memory and encodes the decoded rows again, with libpng's default filters.
//
//   cc -O2 -o png_c_loop Benchmarks/png_c_loop.c -lpng
//   ./png_c_loop image.png ITERATIONS LEVEL
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct { const unsigned char *data; size_t size, offset; } source;
typedef struct { unsigned char *data; size_t size, capacity; } sink;

static void read_fn(png_structp png, png_bytep out, png_size_t n) {
    source *s = png_get_io_ptr(png);
    if (s->offset + n > s->size) png_error(png, "short");
    memcpy(out, s->data + s->offset, n);
    s->offset += n;
}

static void write_fn(png_structp png, png_bytep in, png_size_t n) {
    sink *s = png_get_io_ptr(png);
    if (s->size + n > s->capacity) {
        s->capacity = (s->size + n) * 2;
        s->data = realloc(s->data, s->capacity);
    }
    memcpy(s->data + s->size, in, n);
    s->size += n;
}

static void flush_fn(png_structp png) { (void)png; }

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: %s image.png iterations level\n", argv[0]); return 64; }
    FILE *f = fopen(argv[1], "rb");
    if (!f) { perror(argv[1]); return 66; }
    fseek(f, 0, SEEK_END);
    size_t size = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *file = malloc(size);
    if (fread(file, 1, size, f) != size) return 74;
    fclose(f);
    int iterations = atoi(argv[2]), level = atoi(argv[3]);

    png_uint_32 width = 0, height = 0;
    int channels = 0, depth = 0;
    unsigned char *pixels = NULL;
    png_bytep *rows = NULL;
    double start = now();
    for (int i = 0; i < iterations; i++) {
        source src = { file, size, 0 };
        png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
        png_infop info = png_create_info_struct(png);
        if (setjmp(png_jmpbuf(png))) return 65;
        png_set_read_fn(png, &src, read_fn);
        png_read_info(png, info);
        width = png_get_image_width(png, info);
        height = png_get_image_height(png, info);
        png_set_expand(png);
        png_read_update_info(png, info);
        channels = png_get_channels(png, info);
        depth = png_get_bit_depth(png, info);
        size_t row_bytes = png_get_rowbytes(png, info);
        free(pixels);
        free(rows);
        pixels = malloc(row_bytes * height);
        rows = malloc(sizeof(png_bytep) * height);
        for (png_uint_32 y = 0; y < height; y++) rows[y] = pixels + row_bytes * y;
        png_read_image(png, rows);
        png_read_end(png, NULL);
        png_destroy_read_struct(&png, &info, NULL);
    }
    double decode = (now() - start) / iterations;

    static const int types[5] = { 0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA };
    size_t encoded = 0;
    start = now();
    for (int i = 0; i < iterations; i++) {
        sink out = { NULL, 0, 0 };
        png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
        png_infop info = png_create_info_struct(png);
        if (setjmp(png_jmpbuf(png))) return 70;
        png_set_write_fn(png, &out, write_fn, flush_fn);
        png_set_compression_level(png, level);
        png_set_IHDR(png, info, width, height, depth, types[channels], PNG_INTERLACE_NONE,
                     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
        png_write_info(png, info);
        png_write_image(png, rows);
        png_write_end(png, NULL);
        png_destroy_write_struct(&png, &info);
        encoded = out.size;
        free(out.data);
    }
    double encode = (now() - start) / iterations;
    printf("{\"decode_ms\": %.2f, \"encode_ms\": %.2f, \"encoded_bytes\": %zu, \"width\": %u, \"height\": %u}\n",
           decode * 1e3, encode * 1e3, encoded, width, height);
    return 0;
}
