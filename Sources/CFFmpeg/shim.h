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
#include <libavutil/spherical.h>
#include <libavutil/stereo3d.h>

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


/// The stream's side data of `type`, or NULL; `size` receives its size.
static inline const uint8_t *strata_stream_side_data(const AVStream *st, enum AVPacketSideDataType type, size_t *size) {
#if LIBAVFORMAT_VERSION_INT >= AV_VERSION_INT(60, 15, 100)
    const AVPacketSideData *sd = av_packet_side_data_get(st->codecpar->coded_side_data, st->codecpar->nb_coded_side_data, type);
    if (!sd) return NULL;
    *size = sd->size;
    return sd->data;
#else
    return av_stream_get_side_data(st, type, size);
#endif
}

/// Attaches side data of `type` (taking ownership of `data`, allocated with av_malloc).
static inline int strata_stream_add_side_data(AVStream *st, enum AVPacketSideDataType type, uint8_t *data, size_t size) {
#if LIBAVFORMAT_VERSION_INT >= AV_VERSION_INT(60, 15, 100)
    if (!av_packet_side_data_add(&st->codecpar->coded_side_data, &st->codecpar->nb_coded_side_data, type, data, size, 0)) {
        av_free(data);
        return AVERROR(ENOMEM);
    }
    return 0;
#else
    int code = av_stream_add_side_data(st, type, data, size);
    if (code < 0) av_free(data);
    return code;
#endif
}

/// The stream's spherical mapping: 1 and the fields (yaw, pitch, roll in degrees; bounds
/// left, top, right, bottom as fractions of the frame) when it has one, else 0.
static inline int strata_stream_spherical(const AVStream *st, int *projection, double ypr[3], double bounds[4]) {
    size_t size = 0;
    const AVSphericalMapping *m = (const AVSphericalMapping *)strata_stream_side_data(st, AV_PKT_DATA_SPHERICAL, &size);
    if (!m || size < sizeof(AVSphericalMapping)) return 0;
    *projection = (int)m->projection;
    ypr[0] = m->yaw / 65536.0;
    ypr[1] = m->pitch / 65536.0;
    ypr[2] = m->roll / 65536.0;
    bounds[0] = m->bound_left / 4294967296.0;
    bounds[1] = m->bound_top / 4294967296.0;
    bounds[2] = m->bound_right / 4294967296.0;
    bounds[3] = m->bound_bottom / 4294967296.0;
    return 1;
}

/// The stream's stereo 3D layout: 1 with its type and flags, else 0.
static inline int strata_stream_stereo(const AVStream *st, int *type, int *flags) {
    size_t size = 0;
    const AVStereo3D *s = (const AVStereo3D *)strata_stream_side_data(st, AV_PKT_DATA_STEREO3D, &size);
    if (!s || size < sizeof(AVStereo3D)) return 0;
    *type = (int)s->type;
    *flags = s->flags;
    return 1;
}

/// Tags a stream being written as spherical (yaw, pitch, roll in degrees; bounds as fractions).
static inline int strata_stream_set_spherical(AVStream *st, int projection, const double ypr[3], const double bounds[4]) {
    size_t size = 0;
    AVSphericalMapping *m = av_spherical_alloc(&size);
    if (!m) return AVERROR(ENOMEM);
    m->projection = (enum AVSphericalProjection)projection;
    m->yaw = (int32_t)(ypr[0] * 65536.0 + (ypr[0] < 0 ? -0.5 : 0.5));
    m->pitch = (int32_t)(ypr[1] * 65536.0 + (ypr[1] < 0 ? -0.5 : 0.5));
    m->roll = (int32_t)(ypr[2] * 65536.0 + (ypr[2] < 0 ? -0.5 : 0.5));
    for (int i = 0; i < 4; i++) {
        double v = bounds[i] * 4294967296.0 + 0.5;
        uint32_t q = v >= 4294967295.0 ? 4294967295u : (uint32_t)v;
        if (i == 0) m->bound_left = q; else if (i == 1) m->bound_top = q; else if (i == 2) m->bound_right = q; else m->bound_bottom = q;
    }
    return strata_stream_add_side_data(st, AV_PKT_DATA_SPHERICAL, (uint8_t *)m, size);
}

/// Tags a stream being written with a stereo 3D layout.
static inline int strata_stream_set_stereo(AVStream *st, int type, int flags) {
    AVStereo3D *s = av_stereo3d_alloc();
    if (!s) return AVERROR(ENOMEM);
    s->type = (enum AVStereo3DType)type;
    s->flags = flags;
    return strata_stream_add_side_data(st, AV_PKT_DATA_STEREO3D, (uint8_t *)s, sizeof(*s));
}

#endif
