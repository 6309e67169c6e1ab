#include "strata_codecs.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>

// libjpeg calls error_exit and, by default, exit(). Strata's handler records the message
// and jumps back to the setjmp in the same .c function that made the call.
typedef struct {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    char *message;
    size_t message_size;
    int truncated;
} jpeg_error_state;

static void on_jpeg_error(j_common_ptr cinfo) {
    jpeg_error_state *state = (jpeg_error_state *)cinfo->err;
    if (state->message && state->message_size > 0 && state->message[0] == '\0')
        (*cinfo->err->format_message)(cinfo, state->message);
    longjmp(state->jump, 1);
}

static void on_jpeg_message(j_common_ptr cinfo, int level);

/// Prepares `state` to collect the message and return by longjmp; returns the manager
/// to store in cinfo.err.
static struct jpeg_error_mgr *error_setup(jpeg_error_state *state, char *message, size_t message_size) {
    memset(state, 0, sizeof(*state));
    state->message = message;
    state->message_size = message_size;
    struct jpeg_error_mgr *manager = jpeg_std_error(&state->base);
    state->base.error_exit = on_jpeg_error;
    state->base.emit_message = on_jpeg_message;
    return manager;
}

static void on_jpeg_message(j_common_ptr cinfo, int level) {
    jpeg_error_state *state = (jpeg_error_state *)cinfo->err;
    // A warning at level -1. Running out of data is the one Strata refuses: libjpeg would
    // otherwise pad the missing part of a truncated file with gray and call it decoded.
    if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) {
        state->truncated = 1;
        if (state->message && state->message_size > 0)
            snprintf(state->message, state->message_size, "the file ends before the image data does");
        longjmp(state->jump, 1);
    }
}

int strata_jpeg_decode(const unsigned char *data, size_t size, uint64_t max_pixels,
                       strata_raster *out, char *message, size_t message_size) {
    memset(out, 0, sizeof(*out));
    if (message && message_size) message[0] = '\0';
    if (size < 3 || data[0] != 0xFF || data[1] != 0xD8 || data[2] != 0xFF) {
        snprintf(message, message_size, "not a JPEG file (bad signature)");
        return STRATA_CODEC_NOT_THIS_FORMAT;
    }
    // jpeg_error_state must stay valid during the longjmp; it and cinfo live in this frame.
    struct jpeg_decompress_struct cinfo;
    jpeg_error_state state;
    cinfo.err = error_setup(&state, message, message_size);

    unsigned char *volatile pixels = NULL;
    unsigned char *volatile exif = NULL;
    volatile int result = STRATA_CODEC_CORRUPT;
    if (setjmp(state.jump)) {
        free(pixels);
        free(exif);
        jpeg_destroy_decompress(&cinfo);
        memset(out, 0, sizeof(*out));
        return state.truncated ? STRATA_CODEC_TRUNCATED : result;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(&cinfo, TRUE);

    for (jpeg_saved_marker_ptr m = cinfo.marker_list; m; m = m->next) {
        if (m->marker == JPEG_APP0 + 1 && m->data_length > 6 && memcmp(m->data, "Exif\0\0", 6) == 0) {
            exif = malloc(m->data_length - 6);
            if (exif) {
                memcpy(exif, m->data + 6, m->data_length - 6);
                out->exif_size = m->data_length - 6;
            }
            break;
        }
    }

    out->jpeg_color_space = cinfo.jpeg_color_space;
    if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
        cinfo.out_color_space = JCS_CMYK;
        out->inverted_cmyk = cinfo.saw_Adobe_marker ? 1 : 0;
    } else if (cinfo.jpeg_color_space == JCS_GRAYSCALE) {
        cinfo.out_color_space = JCS_GRAYSCALE;
    } else {
        cinfo.out_color_space = JCS_RGB;
    }
    uint64_t pixel_count = (uint64_t)cinfo.image_width * (uint64_t)cinfo.image_height;
    if (max_pixels && pixel_count > max_pixels) {
        snprintf(message, message_size, "%ux%u pixels is above the limit of %llu pixels",
                 (unsigned)cinfo.image_width, (unsigned)cinfo.image_height, (unsigned long long)max_pixels);
        result = STRATA_CODEC_TOO_LARGE;
        longjmp(state.jump, 1);
    }
    jpeg_start_decompress(&cinfo);
    int channels = cinfo.output_components;
    size_t row_bytes = (size_t)cinfo.output_width * channels;
    pixels = malloc(row_bytes * cinfo.output_height);
    if (!pixels) {
        snprintf(message, message_size, "out of memory");
        result = STRATA_CODEC_NO_MEMORY;
        longjmp(state.jump, 1);
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = pixels + row_bytes * cinfo.output_scanline;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    out->width = (int)cinfo.output_width;
    out->height = (int)cinfo.output_height;
    out->channels = channels;
    out->bit_depth = 8;
    out->source_bit_depth = 8;
    out->pixels = pixels;
    out->exif = exif;
    jpeg_destroy_decompress(&cinfo);
    return STRATA_CODEC_OK;
}

int strata_jpeg_encode(const unsigned char *pixels, int width, int height, int channels,
                       int quality, const unsigned char *exif, size_t exif_size,
                       unsigned char **out, size_t *out_size, char *message, size_t message_size) {
    *out = NULL;
    *out_size = 0;
    if (message && message_size) message[0] = '\0';
    if (width <= 0 || height <= 0 || width > JPEG_MAX_DIMENSION || height > JPEG_MAX_DIMENSION ||
        (channels != 1 && channels != 3 && channels != 4) || exif_size > 65533 - 8) {
        snprintf(message, message_size, "cannot encode %dx%d with %d channels as JPEG", width, height, channels);
        return STRATA_CODEC_BAD_ARGUMENT;
    }
    struct jpeg_compress_struct cinfo;
    jpeg_error_state state;
    cinfo.err = error_setup(&state, message, message_size);

    unsigned char *volatile buffer = NULL;
    unsigned long buffer_size = 0;
    if (setjmp(state.jump)) {
        jpeg_destroy_compress(&cinfo);
        free(buffer);
        return STRATA_CODEC_CORRUPT;
    }
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, (unsigned char **)&buffer, &buffer_size);
    cinfo.image_width = (JDIMENSION)width;
    cinfo.image_height = (JDIMENSION)height;
    cinfo.input_components = channels;
    cinfo.in_color_space = channels == 1 ? JCS_GRAYSCALE : (channels == 3 ? JCS_RGB : JCS_CMYK);
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality < 1 ? 1 : (quality > 100 ? 100 : quality), TRUE);
    if (quality >= 90) {
        // Full-resolution chroma above q90, as cjpeg and Pillow do for high quality.
        for (int c = 0; c < cinfo.num_components; c++) {
            cinfo.comp_info[c].h_samp_factor = 1;
            cinfo.comp_info[c].v_samp_factor = 1;
        }
    }
    jpeg_start_compress(&cinfo, TRUE);
    if (exif && exif_size) {
        unsigned char *app1 = malloc(exif_size + 6);
        if (app1) {
            memcpy(app1, "Exif\0\0", 6);
            memcpy(app1 + 6, exif, exif_size);
            jpeg_write_marker(&cinfo, JPEG_APP0 + 1, app1, (unsigned)(exif_size + 6));
            free(app1);
        }
    }
    size_t row_bytes = (size_t)width * channels;
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(pixels + row_bytes * cinfo.next_scanline);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    *out = buffer;
    *out_size = buffer_size;
    return STRATA_CODEC_OK;
}
