// Internal to td_protocol: text built on the hot path without QString::arg's machinery (the
// summaries every frame gets, also on the server's fast path). Shared by the GT06 and JT/T 808
// decoders. Not installed, not part of the API.
#pragma once

#include <QLatin1StringView>
#include <QString>
#include <QStringView>

#include <algorithm>
#include <cmath>
#include <iterator>

namespace td::proto::textline {

// Writes |v| rounded to `decimals` places (x = llround(|v| * scale), scale = 10^decimals),
// with a '-' when v < 0 and the text is not all zeros, ending at `end`; returns the start.
// Inlined, so a constant scale gives constant divisors.
Q_ALWAYS_INLINE char *fixedDigits(char *end, double v, quint64 scale, int decimals) {
    const quint64 x = quint64(std::llround(std::abs(v) * double(scale)));
    char *o = end;
    quint64 frac = x % scale, whole = x / scale;
    for (int i = 0; i < decimals; ++i) {
        *--o = char('0' + frac % 10);
        frac /= 10;
    }
    if (decimals)
        *--o = '.';
    do {
        *--o = char('0' + whole % 10);
        whole /= 10;
    } while (whole);
    if (v < 0 && x != 0)
        *--o = '-';
    return o;
}

// Fixed-point formatting without QString::number's general machinery (hot path).
inline QString fmtFixed(double v, int decimals) {
    static const quint64 kScale[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000};
    if (!std::isfinite(v) || std::abs(v) > 1e12 || decimals < 0 || decimals > 7)
        return QString::number(v, 'f', std::clamp(decimals, 0, 7));
    char b[40];
    const char *o = fixedDigits(b + sizeof b, v, kScale[decimals], decimals);
    return QString::fromLatin1(o, int(b + sizeof b - o));
}

// One line of text built in a stack buffer and turned into a QString once (a summary is
// made for every frame the server receives). Longer text spills into a QString.
class Line {
public:
    Q_ALWAYS_INLINE Line &operator<<(QLatin1StringView s) {
        if (char16_t *o = room(s.size())) {
            for (qsizetype i = 0; i < s.size(); ++i)
                o[i] = char16_t(uchar(s.data()[i]));
            m_n += s.size();
        } else {
            m_spill.append(s);
        }
        return *this;
    }
    // Literals: the length is known at compile time (QLatin1StringView(const char *) would
    // measure it on every call, which costs more than the copy).
    template <size_t N>
    Q_ALWAYS_INLINE Line &operator<<(const char (&s)[N]) { return *this << QLatin1StringView(s, qsizetype(N - 1)); }
    Q_ALWAYS_INLINE Line &operator<<(char ch) {
        if (char16_t *o = room(1)) {
            *o = char16_t(uchar(ch));
            ++m_n;
        } else {
            m_spill.append(QLatin1Char(ch));
        }
        return *this;
    }
    Q_ALWAYS_INLINE Line &operator<<(QChar ch) {
        if (char16_t *o = room(1)) {
            *o = ch.unicode();
            ++m_n;
        } else {
            m_spill.append(ch);
        }
        return *this;
    }
    Line &operator<<(QStringView s) {
        if (char16_t *o = room(s.size())) {
            std::copy(s.utf16(), s.utf16() + s.size(), o);
            m_n += s.size();
        } else {
            m_spill.append(s);
        }
        return *this;
    }
    Line &operator<<(const QString &s) { return *this << QStringView(s); }
    Line &number(qint64 v) {
        char b[24];
        char *o = b + sizeof b;
        quint64 x = v < 0 ? 0 - quint64(v) : quint64(v);
        do {
            *--o = char('0' + x % 10);
            x /= 10;
        } while (x);
        if (v < 0)
            *--o = '-';
        return *this << QLatin1StringView(o, b + sizeof b - o);
    }
    // Same text as fmtFixed().
    Line &fixed(double v, int decimals) {
        switch (decimals) {   // constant divisors for the common cases
        case 1: return fixedScaled<10>(v, 1);
        case 2: return fixedScaled<100>(v, 2);
        case 4: return fixedScaled<10000>(v, 4);
        case 6: return fixedScaled<1000000>(v, 6);
        default: break;
        }
        return *this << fmtFixed(v, decimals);
    }
    QString toString() const {
        return m_spilled ? m_spill : QString(reinterpret_cast<const QChar *>(m_buf), m_n);
    }

private:
    template <quint64 Scale>
    Line &fixedScaled(double v, int decimals) {
        if (!std::isfinite(v) || std::abs(v) > 1e12)
            return *this << fmtFixed(v, decimals);
        char b[40];
        const char *o = fixedDigits(b + sizeof b, v, Scale, decimals);
        return *this << QLatin1StringView(o, b + sizeof b - o);
    }
    // Where `more` characters go, or nullptr once the text lives in m_spill.
    Q_ALWAYS_INLINE char16_t *room(qsizetype more) {
        if (Q_LIKELY(!m_spilled && m_n + more <= qsizetype(std::size(m_buf))))
            return m_buf + m_n;
        spill();
        return nullptr;
    }
    Q_NEVER_INLINE void spill() {
        if (!m_spilled) {
            m_spill = QString(reinterpret_cast<const QChar *>(m_buf), m_n);
            m_spilled = true;
        }
    }
    char16_t m_buf[200];
    qsizetype m_n = 0;
    QString m_spill;
    bool m_spilled = false;
};

} // namespace td::proto::textline
