// Re-exports the FFmpeg headers Strata uses, and wraps as functions the macros and
// version-dependent calls that Swift cannot import directly.
#ifndef STRATA_CFFMPEG_SHIM_H
#define STRATA_CFFMPEG_SHIM_H

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libswscale/swscale.h>
#include <libavutil/avutil.h>
#include <libavutil/display.h>
#include <libavutil/error.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>

static inline int strata_averror_eagain(void) { return AVERROR(EAGAIN); }
static inline int strata_averror_eof(void) { return AVERROR_EOF; }
static inline int64_t strata_nopts_value(void) { return AV_NOPTS_VALUE; }

/// The FFmpeg message for an error code, written into buf.
static inline void strata_av_strerror(int code, char *buf, size_t size) {
    if (av_strerror(code, buf, size) < 0) snprintf(buf, size, "FFmpeg error %d", code);
}

/// The counter-clockwise rotation in degrees of the stream's display matrix, or NAN if none.
static inline double strata_stream_rotation(const AVStream *st) {
    const uint8_t *matrix = NULL;
#if LIBAVFORMAT_VERSION_INT >= AV_VERSION_INT(60, 15, 100)
    const AVPacketSideData *sd = av_packet_side_data_get(st->codecpar->coded_side_data,
        st->codecpar->nb_coded_side_data, AV_PKT_DATA_DISPLAYMATRIX);
    if (sd && sd->size >= 9 * 4) matrix = sd->data;
#else
    size_t size = 0;
    matrix = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, &size);
    if (size < 9 * 4) matrix = NULL;
#endif
    if (!matrix) return NAN;
    return av_display_rotation_get((const int32_t *)matrix);
}

/// Attaches a display matrix for a clockwise rotation by `degrees` to a stream being written
/// (av_display_rotation_set counts clockwise, av_display_rotation_get counter-clockwise).
static inline int strata_stream_set_rotation(AVStream *st, double degrees) {
#if LIBAVFORMAT_VERSION_INT >= AV_VERSION_INT(60, 15, 100)
    AVPacketSideData *sd = av_packet_side_data_new(&st->codecpar->coded_side_data,
        &st->codecpar->nb_coded_side_data, AV_PKT_DATA_DISPLAYMATRIX, 9 * 4, 0);
    if (!sd) return AVERROR(ENOMEM);
    av_display_rotation_set((int32_t *)sd->data, degrees);
#else
    uint8_t *data = av_stream_new_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, 9 * 4);
    if (!data) return AVERROR(ENOMEM);
    av_display_rotation_set((int32_t *)data, degrees);
#endif
    return 0;
}

#endif
