#include "export/outbuffer.h"

#include <QDir>
#include <QTemporaryFile>

#include <charconv>
#include <cmath>
#include <cstring>

namespace td::exporter {

namespace {

// Days since 1970-01-01 -> civil date (proleptic Gregorian), H. Hinnant's algorithm.
void civilFromDays(qint64 z, qint64 *y, unsigned *m, unsigned *d) {
    z += 719468;
    const qint64 era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = unsigned(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const qint64 yy = qint64(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2);
}

inline void put2(char *p, unsigned v) {
    p[0] = char('0' + v / 10);
    p[1] = char('0' + v % 10);
}

// Appends one Unicode code point as UTF-8.
inline int utf8Encode(char32_t cp, char *out) {
    if (cp < 0x80) { out[0] = char(cp); return 1; }
    if (cp < 0x800) { out[0] = char(0xC0 | (cp >> 6)); out[1] = char(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        out[0] = char(0xE0 | (cp >> 12)); out[1] = char(0x80 | ((cp >> 6) & 0x3F)); out[2] = char(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = char(0xF0 | (cp >> 18)); out[1] = char(0x80 | ((cp >> 12) & 0x3F));
    out[2] = char(0x80 | ((cp >> 6) & 0x3F)); out[3] = char(0x80 | (cp & 0x3F));
    return 4;
}

// Walks `text` as code points; lone surrogates come out as 0xFFFFFFFF.
template <typename F>
void forEachCodePoint(QStringView text, F &&f) {
    const qsizetype n = text.size();
    for (qsizetype i = 0; i < n; ++i) {
        const char16_t u = text[i].unicode();
        if (QChar::isHighSurrogate(u)) {
            if (i + 1 < n && QChar::isLowSurrogate(text[i + 1].unicode())) {
                f(char32_t(QChar::surrogateToUcs4(u, text[i + 1].unicode())));
                ++i;
            } else {
                f(char32_t(0xFFFFFFFF));
            }
        } else if (QChar::isLowSurrogate(u)) {
            f(char32_t(0xFFFFFFFF));
        } else {
            f(char32_t(u));
        }
    }
}

constexpr int NumberBufferSize = 64;

// Fixed notation into `buf` (NumberBufferSize bytes); *start points at the text, the
// length is returned. A negative zero ("-0.00") loses its sign; `trim` removes trailing
// zeros and a trailing point. Non-finite or huge values (never valid here) print as 0.
int formatFixed(char *buf, double v, int decimals, bool trim, const char **start) {
    decimals = qBound(0, decimals, 17);
    if (!std::isfinite(v) || std::fabs(v) >= 1e20)
        v = 0;
    auto r = std::to_chars(buf, buf + NumberBufferSize, v, std::chars_format::fixed, decimals);
    char *end = r.ptr;
    if (trim && decimals > 0) {
        while (end[-1] == '0')
            --end;
        if (end[-1] == '.')
            --end;
    }
    *start = buf;
    if (buf[0] == '-') {
        bool zero = true;
        for (const char *p = buf + 1; p < end; ++p)
            if (*p != '0' && *p != '.') {
                zero = false;
                break;
            }
        if (zero)
            *start = buf + 1;
    }
    return int(end - *start);
}

} // namespace

OutBuffer::OutBuffer(QIODevice *device, qsizetype capacity)
    : m_device(device), m_buf(size_t(qMax<qsizetype>(capacity, 64))), m_cap(qsizetype(m_buf.size())) {
    m_bufData = m_buf.data();
}

OutBuffer::~OutBuffer() = default;

QIODevice *OutBuffer::device() { return m_device; }

void OutBuffer::setError(const QString &error) {
    if (m_error.isEmpty())
        m_error = error.isEmpty() ? QStringLiteral("write error") : error;
}

bool OutBuffer::flush() {
    if (failed())
        return false;
    if (m_len == 0)
        return true;
    QIODevice *dev = device();
    if (!dev) {
        setError(QStringLiteral("no output device"));  // unless device() set a reason first
        m_len = 0;
        return false;
    }
    qsizetype done = 0;
    while (done < m_len) {
        const qint64 n = dev->write(m_bufData + done, m_len - done);
        if (n <= 0) {
            setError(dev->errorString());
            m_len = 0;
            return false;
        }
        done += qsizetype(n);
    }
    m_flushed += m_len;
    m_len = 0;
    return true;
}

void OutBuffer::append(const char *data, qsizetype length) {
    if (failed())
        return;
    while (length > 0) {
        if (m_len == m_cap && !flush())
            return;
        const qsizetype n = qMin(length, m_cap - m_len);
        std::memcpy(m_bufData + m_len, data, size_t(n));
        m_len += n;
        data += n;
        length -= n;
    }
}

void OutBuffer::appendInt(qint64 v) {
    char tmp[24];
    const auto r = std::to_chars(tmp, tmp + sizeof tmp, v);
    append(tmp, r.ptr - tmp);
}

void OutBuffer::appendFixed(double v, int decimals) {
    char tmp[NumberBufferSize];
    const char *start = nullptr;
    const int n = formatFixed(tmp, v, decimals, false, &start);
    append(start, n);
}

void OutBuffer::appendTrimmed(double v, int decimals) {
    char tmp[NumberBufferSize];
    const char *start = nullptr;
    const int n = formatFixed(tmp, v, decimals, true, &start);
    append(start, n);
}

QByteArray fixedNumber(double v, int decimals) {
    char tmp[NumberBufferSize];
    const char *start = nullptr;
    const int n = formatFixed(tmp, v, decimals, false, &start);
    return QByteArray(start, n);
}

QByteArray trimmedNumber(double v, int decimals) {
    char tmp[NumberBufferSize];
    const char *start = nullptr;
    const int n = formatFixed(tmp, v, decimals, true, &start);
    return QByteArray(start, n);
}

void OutBuffer::appendIsoTime(qint64 ms) {
    qint64 days = ms / 86400000;
    qint64 rem = ms % 86400000;
    if (rem < 0) {
        rem += 86400000;
        --days;
    }
    qint64 y;
    unsigned m, d;
    civilFromDays(days, &y, &m, &d);
    const unsigned secs = unsigned(rem / 1000), milli = unsigned(rem % 1000);
    char tmp[40];
    char *p = tmp;
    if (y < 0 || y > 9999) {  // outside ISO 8601's four digits: clamp, never garble
        y = y < 0 ? 0 : 9999;
    }
    p[0] = char('0' + y / 1000); p[1] = char('0' + (y / 100) % 10);
    p[2] = char('0' + (y / 10) % 10); p[3] = char('0' + y % 10);
    p[4] = '-'; put2(p + 5, m); p[7] = '-'; put2(p + 8, d);
    p[10] = 'T'; put2(p + 11, secs / 3600); p[13] = ':'; put2(p + 14, (secs / 60) % 60);
    p[16] = ':'; put2(p + 17, secs % 60);
    p += 19;
    if (milli) {
        p[0] = '.'; p[1] = char('0' + milli / 100); p[2] = char('0' + (milli / 10) % 10); p[3] = char('0' + milli % 10);
        p += 4;
    }
    *p++ = 'Z';
    append(tmp, p - tmp);
}

QByteArray xmlEscaped(QStringView text) {
    QByteArray out;
    out.reserve(text.size());
    const auto append = [&out](const char *d, qsizetype n) { out.append(d, n); };
    char enc[4];
    forEachCodePoint(text, [&](char32_t cp) {
        switch (cp) {
        case '&': append("&amp;", 5); return;
        case '<': append("&lt;", 4); return;
        case '>': append("&gt;", 4); return;
        case '"': append("&quot;", 6); return;
        case '\'': append("&apos;", 6); return;
        case '\t': append("&#9;", 4); return;   // keep tabs/newlines through attribute normalisation
        case '\n': append("&#10;", 5); return;
        case '\r': append("&#13;", 5); return;
        default: break;
        }
        const bool allowed = (cp >= 0x20 && cp <= 0xD7FF) || (cp >= 0xE000 && cp <= 0xFFFD)
            || (cp >= 0x10000 && cp <= 0x10FFFF);
        if (allowed)
            append(enc, utf8Encode(cp, enc));
    });
    return out;
}

QByteArray jsonQuoted(QStringView text) {
    QByteArray out;
    out.reserve(text.size() + 2);
    const auto append = [&out](const char *d, qsizetype n) { out.append(d, n); };
    out.append('"');
    char enc[8];
    forEachCodePoint(text, [&](char32_t cp) {
        switch (cp) {
        case '"': append("\\\"", 2); return;
        case '\\': append("\\\\", 2); return;
        case '\n': append("\\n", 2); return;
        case '\r': append("\\r", 2); return;
        case '\t': append("\\t", 2); return;
        default: break;
        }
        if (cp < 0x20) {
            static const char hex[] = "0123456789abcdef";
            const char esc[6] = {'\\', 'u', '0', '0', hex[cp >> 4], hex[cp & 15]};
            append(esc, 6);
        } else if (cp == 0xFFFFFFFF) {
            append(enc, utf8Encode(0xFFFD, enc));   // lone surrogate: replacement character
        } else {
            append(enc, utf8Encode(cp, enc));
        }
    });
    out.append('"');
    return out;
}

QByteArray csvEscaped(QStringView text) {
    QByteArray out;
    out.reserve(text.size() + 2);
    const auto append = [&out](const char *d, qsizetype n) { out.append(d, n); };
    bool quote = !text.isEmpty() && (text.front().isSpace() || text.back().isSpace());
    for (QChar c : text)
        if (c == QLatin1Char(',') || c == QLatin1Char('"') || c == QLatin1Char('\n') || c == QLatin1Char('\r')) {
            quote = true;
            break;
        }
    if (quote)
        out.append('"');
    char enc[4];
    forEachCodePoint(text, [&](char32_t cp) {
        if (cp == '"')
            append("\"\"", 2);
        else if (cp == 0xFFFFFFFF)
            append(enc, utf8Encode(0xFFFD, enc));
        else if (cp != 0)
            append(enc, utf8Encode(cp, enc));
    });
    if (quote)
        out.append('"');
    return out;
}

void OutBuffer::appendXmlText(QStringView text) { append(xmlEscaped(text)); }
void OutBuffer::appendJsonString(QStringView text) { append(jsonQuoted(text)); }
void OutBuffer::appendCsvField(QStringView text) { append(csvEscaped(text)); }

bool OutBuffer::canPatch() const {
    return m_device && !m_device->isSequential();
}

qint64 OutBuffer::reserve(qsizetype length, char fill) {
    const qint64 at = position();
    for (qsizetype i = 0; i < length; ++i)
        append(fill);
    return at;
}

bool OutBuffer::patch(qint64 offset, QByteArrayView bytes) {
    if (failed())
        return false;
    if (!canPatch()) {
        setError(QStringLiteral("the output cannot be rewritten in place"));
        return false;
    }
    if (offset >= m_flushed) {  // still in the buffer
        const qsizetype at = qsizetype(offset - m_flushed);
        if (at + bytes.size() <= m_len) {
            std::memcpy(m_bufData + at, bytes.data(), size_t(bytes.size()));
            return true;
        }
    }
    if (!flush())
        return false;
    const qint64 end = m_device->pos();
    const qint64 base = end - m_flushed;  // device position where this buffer started
    if (!m_device->seek(base + offset) || m_device->write(bytes.data(), bytes.size()) != bytes.size()
        || !m_device->seek(end)) {
        setError(m_device->errorString());
        return false;
    }
    return true;
}

// ---- SpillBuffer ----

SpillBuffer::SpillBuffer(const QString &directory, qsizetype capacity)
    : OutBuffer(nullptr, capacity), m_dir(directory) {}

SpillBuffer::~SpillBuffer() = default;

QIODevice *SpillBuffer::device() {
    if (m_file)
        return m_file.get();
    const QString dir = m_dir.isEmpty() ? QDir::tempPath() : m_dir;
    auto f = std::make_unique<QTemporaryFile>(dir + QStringLiteral("/.trackerdesk-export-XXXXXX.tmp"));
    if (!f->open()) {
        setError(QStringLiteral("cannot create a temporary file in %1: %2").arg(dir, f->errorString()));
        return nullptr;
    }
    m_file = std::move(f);
    m_device = m_file.get();
    return m_file.get();
}

bool SpillBuffer::moveTo(OutBuffer &out) {
    if (failed()) {
        out.setError(errorString());
        return false;
    }
    if (m_file && m_flushed > 0) {
        if (!m_file->seek(0)) {
            out.setError(m_file->errorString());
            return false;
        }
        char chunk[64 * 1024];
        qint64 left = m_flushed;
        while (left > 0) {
            const qint64 n = m_file->read(chunk, qMin<qint64>(left, sizeof chunk));
            if (n <= 0) {
                out.setError(QStringLiteral("cannot read back the temporary file: %1").arg(m_file->errorString()));
                return false;
            }
            out.append(chunk, qsizetype(n));
            left -= n;
        }
        if (!m_file->seek(0) || !m_file->resize(0)) {
            out.setError(m_file->errorString());
            return false;
        }
    }
    out.append(m_bufData, m_len);
    m_len = 0;
    m_flushed = 0;
    return !out.failed();
}

} // namespace td::exporter
