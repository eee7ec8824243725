// Positions in free SMS text. One parser per format (a regular expression that finds the
// record + a builder that checks and converts its fields), all in the registry table at the
// end of this file, run in table order over the whole text (GPXSee-style).
//
// Facts: docs/protocols.md "SMS text positions"; the formats and samples come from
// tests/data/sms_vectors.tsv, the SMS format notes (formats.md) and the copy of the
// "Trackbox" supported-formats page (gpstrack.xtremeweb.de) that the seed list is based on.
//
// Rules applied to every format:
//   * lat in [-90, 90], lon in [-180, 180], exactly 0/0 means "no fix": refused.
//   * S and W (or an explicit '-') make the value negative.
//   * A record that matches a format's shape but fails the checks is refused and still
//     "claims" its characters, so that a generic fallback scanner cannot pick a wrong
//     position out of it (e.g. the lon,lat order of SPT100 read as lat,lon).
//   * The parsers run in table order (specific formats first, generic fallbacks last); a
//     later match overlapping an earlier claim is dropped; the same point found twice in
//     different places (a Lat:/Lon: line and a map link) is merged into the first one.
//   * Every pattern uses bounded or possessive repetition only: no catastrophic
//     backtracking, whatever the text.
#include "trackerdesk/protocol/smstext.h"

#include <QJsonObject>
#include <QRegularExpression>
#include <QTimeZone>
#include <QUrl>

#include <algorithm>
#include <cmath>
#include <vector>

namespace td::proto::sms {

QString timeSourceName(TimeSource s) {
    switch (s) {
    case TimeSource::None: return QStringLiteral("none");
    case TimeSource::Text: return QStringLiteral("text");
    case TimeSource::TextTimeOfDay: return QStringLiteral("text-time-of-day");
    case TimeSource::Received: return QStringLiteral("received");
    }
    return QStringLiteral("none");
}

namespace {

constexpr double kKnotKmh = 1.852;
constexpr double kFootM = 0.3048;
constexpr double kSamePointDeg = 1.5e-5;   // ~1.6 m: "the same point" for de-duplication

struct Ctx {
    ParseOptions opt;
};

// ---------------------------------------------------------------- value helpers

std::optional<double> toNum(QStringView s) {
    s = s.trimmed();
    if (s.startsWith(u'+'))
        s = s.mid(1);
    if (s.isEmpty())
        return std::nullopt;
    for (QChar c : s)   // digits, one sign, a decimal point: nothing else ("inf", "1e5")
        if (!(c.isDigit() || c == u'.' || c == u'-'))
            return std::nullopt;
    bool ok = false;
    const double v = s.toDouble(&ok);
    if (!ok || !std::isfinite(v))
        return std::nullopt;
    return v;
}

bool asciiDigits(QStringView s) {
    return !s.isEmpty() && std::all_of(s.begin(), s.end(), [](QChar c) { return c >= u'0' && c <= u'9'; });
}

int toInt(QStringView s, int fallback = -1) {
    bool ok = false;
    const int v = s.trimmed().toInt(&ok);
    return ok ? v : fallback;
}

bool negativeHemisphere(QStringView h) {
    return h.compare(u"S", Qt::CaseInsensitive) == 0 || h.compare(u"W", Qt::CaseInsensitive) == 0;
}

double withHemisphere(double v, QStringView hemisphere) {
    return negativeHemisphere(hemisphere) ? -std::abs(v) : v;
}

// "ddmm.mmmm" / "dddmm.mmmm": degrees followed by decimal minutes (NMEA).
std::optional<double> nmeaDegrees(QStringView v) {
    v = v.trimmed();
    const qsizetype dot = v.indexOf(u'.');
    const qsizetype whole = dot < 0 ? v.size() : dot;
    if (whole < 3 || whole > 5)
        return std::nullopt;
    const int deg = toInt(v.left(whole - 2));
    const auto min = toNum(v.mid(whole - 2));
    if (deg < 0 || !min || *min >= 60)
        return std::nullopt;
    return deg + *min / 60.0;
}

// Degrees, minutes and seconds (each non-negative, minutes and seconds below 60).
std::optional<double> fromDms(double d, double m, double s) {
    if (d < 0 || m < 0 || m >= 60 || s < 0 || s >= 60)
        return std::nullopt;
    return d + m / 60.0 + s / 3600.0;
}

int fullYear(int y) {
    if (y < 0)
        return y;
    return y < 100 ? (y >= 80 ? 1900 + y : 2000 + y) : y;
}

// A pattern compiled (and JIT-optimised) once, before any concurrent use: function-local
// statics are initialised thread-safely, and matching a compiled pattern is reentrant.
QRegularExpression compiledRe(const QString &pattern, QRegularExpression::PatternOptions options = {}) {
    QRegularExpression re(pattern, options);
    if (!re.isValid())   // a programming error; tst_smstext exercises every pattern
        qWarning("smstext: bad pattern %s: %s", qPrintable(pattern), qPrintable(re.errorString()));
    re.optimize();
    return re;
}

QStringView cap(const QRegularExpressionMatch &m, int i) {
    return m.capturedView(i);
}
bool has(const QRegularExpressionMatch &m, int i) {
    return m.hasCaptured(i) && !m.capturedView(i).isEmpty();
}

// Splits comma-separated fields; double quotes group text containing commas (PathAway).
QStringList splitCsv(QStringView s) {
    QStringList out;
    QString cur;
    bool quoted = false;
    for (QChar c : s) {
        if (c == u'"')
            quoted = !quoted;
        else if (c == u',' && !quoted) {
            out << cur;
            cur.clear();
        } else
            cur += c;
    }
    out << cur;
    return out;
}

// ---------------------------------------------------------------- one record being decoded

class Fix {
public:
    explicit Fix(const QRegularExpressionMatch &m)
        : offset(int(m.capturedStart(0))), length(int(m.capturedLength(0))) {}

    int offset;
    int length;
    std::optional<double> lat, lon;
    QDate date;
    QTime tod;
    bool hasDate = false, hasTime = false, badTime = false;
    bool utc = false;            // the text's time is UTC (else: device-local)
    bool valid = true;
    std::optional<double> speedKmh, course, altitude;
    std::optional<int> satellites;
    std::optional<bool> checksumOk;
    QStringList notes;
    QString error;

    void fail(const QString &why) {
        if (error.isEmpty())
            error = why;
    }
    void note(const QString &n) {
        if (!n.isEmpty())
            notes << n;
    }

    void setLat(std::optional<double> v, QStringView hemisphere = {}) {
        if (!v) return fail(QStringLiteral("bad latitude"));
        lat = withHemisphere(*v, hemisphere);
    }
    void setLon(std::optional<double> v, QStringView hemisphere = {}) {
        if (!v) return fail(QStringLiteral("bad longitude"));
        lon = withHemisphere(*v, hemisphere);
    }
    void setDate(int y, int m, int d) {
        hasDate = true;
        date = QDate(fullYear(y), m, d);
        if (!date.isValid())
            badTime = true;
    }
    void setTime(int h, int m, int s, int ms = 0) {
        hasTime = true;
        tod = QTime(h, m, s < 0 ? 0 : s, ms);
        if (!tod.isValid())
            badTime = true;
    }
    // "hhmmss" or "hhmmss.sss"
    void setHhmmss(QStringView v) {
        if (v.isEmpty())
            return;
        if (v.size() < 6 || !asciiDigits(v.left(6)) || (v.size() > 6 && (v[6] != u'.' || !asciiDigits(v.mid(7))))) {
            hasTime = badTime = true;
            return;
        }
        const int ms = v.size() > 7 ? int(std::min(999.0, toNum(v.mid(6)).value_or(0) * 1000 + 0.5)) : 0;
        setTime(toInt(v.mid(0, 2)), toInt(v.mid(2, 2)), toInt(v.mid(4, 2)), ms);
    }
    // "ddmmyy" or "ddmmyyyy"
    void setDdmmyy(QStringView v) {
        if (v.isEmpty())
            return;
        if ((v.size() != 6 && v.size() != 8) || !asciiDigits(v)) {
            hasDate = badTime = true;
            return;
        }
        setDate(toInt(v.mid(4)), toInt(v.mid(2, 2)), toInt(v.mid(0, 2)));
    }
    void setSpeed(QStringView v, double factor = 1.0) {
        if (v.isEmpty()) return;
        if (const auto s = toNum(v); s && *s >= 0) speedKmh = *s * factor;
        else fail(QStringLiteral("bad speed '%1'").arg(v));
    }
    void setCourse(QStringView v) {
        if (v.isEmpty()) return;
        if (const auto c = toNum(v); c && *c >= 0 && *c <= 360) course = *c;
        else fail(QStringLiteral("bad course '%1'").arg(v));
    }
    void setAltitude(QStringView v, double factor = 1.0) {
        if (v.isEmpty()) return;
        if (const auto a = toNum(v)) altitude = *a * factor;
        else fail(QStringLiteral("bad altitude '%1'").arg(v));
    }
};

struct Candidate {
    enum Kind { NotThis, Rejected, Found } kind = NotThis;
    SmsPosition pos;
    QString reason;          // Rejected
    int offset = 0;
    int length = 0;
    QDate textDate;          // the date and time of day as written (invalid: absent), for de-duplication
    QTime textTime;
};

Candidate notThis() {
    return {};
}

// Checks a decoded record and turns it into a result.
Candidate finish(Fix &f, const Ctx &ctx) {
    Candidate c;
    c.offset = f.offset;
    c.length = f.length;
    auto reject = [&](const QString &why) {
        c.kind = Candidate::Rejected;
        c.reason = why;
        return c;
    };
    if (!f.error.isEmpty())
        return reject(f.error);
    if (!f.lat || !f.lon)
        return reject(QStringLiteral("no coordinates"));
    if (!(std::abs(*f.lat) <= 90.0))
        return reject(QStringLiteral("latitude %1 out of range").arg(*f.lat));
    if (!(std::abs(*f.lon) <= 180.0))
        return reject(QStringLiteral("longitude %1 out of range").arg(*f.lon));
    if (*f.lat == 0.0 && *f.lon == 0.0)
        return reject(QStringLiteral("0/0 means no fix"));

    c.kind = Candidate::Found;
    if (!f.badTime) {
        c.textDate = f.date;
        c.textTime = f.tod;
    }
    SmsPosition &s = c.pos;
    Position &p = s.position;
    p.source = PositionSource::Sms;
    p.latitude = *f.lat;
    p.longitude = *f.lon;
    p.valid = f.valid;
    p.speedKmh = f.speedKmh;
    p.course = f.course;
    p.altitude = f.altitude;
    p.satellites = f.satellites;
    s.checksumOk = f.checksumOk;
    s.offset = f.offset;
    s.length = f.length;

    const int offsetSecs = ctx.opt.deviceUtcOffsetMinutes * 60;
    const int shift = f.utc ? 0 : -offsetSecs;   // device-local -> UTC
    p.timeValid = false;
    if (f.badTime) {
        f.note(QStringLiteral("impossible date/time in the text"));
    } else if (f.hasDate && f.hasTime) {
        p.time = QDateTime(f.date, f.tod, QTimeZone::UTC).addSecs(shift);
        p.timeValid = true;
        s.timeSource = TimeSource::Text;
        s.deviceLocalTime = !f.utc;
    } else if (f.hasTime) {
        const QString zone = f.utc ? QStringLiteral("UTC") : QStringLiteral("device time");
        if (ctx.opt.received.isValid()) {
            // The date closest to the receive time (the fix may be from just before midnight).
            const QDateTime recv = ctx.opt.received.toUTC();
            const QDate localDay = recv.addSecs(-shift).date();
            QDateTime best;
            for (int d = -1; d <= 1; ++d) {
                const QDateTime t = QDateTime(localDay.addDays(d), f.tod, QTimeZone::UTC).addSecs(shift);
                if (!best.isValid() || std::abs(t.secsTo(recv)) < std::abs(best.secsTo(recv)))
                    best = t;
            }
            p.time = best;
            p.timeValid = true;
            s.timeSource = TimeSource::TextTimeOfDay;
            s.deviceLocalTime = !f.utc;
            f.note(QStringLiteral("time of day %1 %2, date from the receive time").arg(f.tod.toString(u"HH:mm:ss"), zone));
        } else {
            f.note(QStringLiteral("time of day %1 %2, no date").arg(f.tod.toString(u"HH:mm:ss"), zone));
        }
    } else if (ctx.opt.received.isValid()) {
        p.time = ctx.opt.received.toUTC();
        p.timeValid = true;
        s.timeSource = TimeSource::Received;
    }
    s.note = f.notes.join(QStringLiteral("; "));
    return c;
}

// ---------------------------------------------------------------- shared pieces

// NMEA checksum: XOR of the characters between '$' and '*' (the '$' is optional in SMS text).
// A mismatch keeps the position but marks it: checksumOk = false and valid = false.
void checkNmeaChecksum(Fix &f, QStringView body, QStringView given) {
    if (given.isEmpty())
        return;
    uint x = 0;
    for (QChar c : body)
        x ^= c.unicode();
    bool ok = false;
    const uint want = given.toUInt(&ok, 16);
    f.checksumOk = ok && x == want;
    if (!*f.checksumOk) {
        f.valid = false;
        f.note(QStringLiteral("NMEA checksum mismatch: computed %1, text has %2")
                   .arg(QString::number(x, 16).toUpper().rightJustified(2, QLatin1Char('0')), given.toString().toUpper()));
    }
}

struct UrlPoint {
    double lat = 0, lon = 0;
};

// Coordinates in a map link: q=/ll=/query=/daddr=... "lat,lon" (optionally with N/S/E/W
// prefixes, %2c-encoded comma), /place/lat,lon, /@lat,lon, lat=..&lon|lng=.., mlat/mlon.
std::optional<UrlPoint> coordinatesInUrl(QStringView url) {
    const QString u = QUrl::fromPercentEncoding(url.toString().toUtf8());
    static const QRegularExpression pair = compiledRe(QStringLiteral(
        R"re([?&#](?:q|ll|sll|query|center|daddr|saddr|destination|loc)=(?:loc:)?\s*([NS]?)\s*([+-]?\d{1,3}(?:\.\d{1,12})?)\s*,\s*([EW]?)\s*([+-]?\d{1,3}(?:\.\d{1,12})?)(?![\d.]))re"),
        QRegularExpression::CaseInsensitiveOption);
    static const QRegularExpression path = compiledRe(QStringLiteral(
        R"re(/(?:place/|search/|@)([+-]?\d{1,3}\.\d{1,12}),\s*([+-]?\d{1,3}\.\d{1,12})(?![\d.]))re"));
    static const QRegularExpression latParam = compiledRe(QStringLiteral(R"re([?&](?:m?lat|latitude)=([+-]?\d{1,3}(?:\.\d{1,12})?)(?![\d.]))re"),
                                             QRegularExpression::CaseInsensitiveOption);
    static const QRegularExpression lonParam = compiledRe(QStringLiteral(R"re([?&](?:m?lon|lng|long|longitude)=([+-]?\d{1,3}(?:\.\d{1,12})?)(?![\d.]))re"),
                                             QRegularExpression::CaseInsensitiveOption);
    std::optional<double> lat, lon;
    if (const auto m = pair.match(u); m.hasMatch()) {
        lat = toNum(m.capturedView(2));
        lon = toNum(m.capturedView(4));
        if (lat) lat = withHemisphere(*lat, m.capturedView(1));
        if (lon) lon = withHemisphere(*lon, m.capturedView(3));
    } else if (const auto m2 = path.match(u); m2.hasMatch()) {
        lat = toNum(m2.capturedView(1));
        lon = toNum(m2.capturedView(2));
    } else {
        const auto a = latParam.match(u);
        const auto b = lonParam.match(u);
        if (a.hasMatch() && b.hasMatch()) {
            lat = toNum(a.capturedView(1));
            lon = toNum(b.capturedView(1));
        }
    }
    if (!lat || !lon)
        return std::nullopt;   // a short link, a place name: nothing to read
    return UrlPoint{*lat, *lon};
}

// A builder for records whose position is a map link (group `urlGroup`).
bool setFromUrl(Fix &f, const QRegularExpressionMatch &m, int urlGroup) {
    const auto pt = coordinatesInUrl(cap(m, urlGroup));
    if (!pt)
        return false;
    f.lat = pt->lat;
    f.lon = pt->lon;
    return true;
}

void setDateTimeCaps(Fix &f, const QRegularExpressionMatch &m, int y, int mo, int d, int h, int mi, int s) {
    if (has(m, y) && has(m, mo) && has(m, d))
        f.setDate(toInt(cap(m, y)), toInt(cap(m, mo)), toInt(cap(m, d)));
    if (has(m, h) && has(m, mi))
        f.setTime(toInt(cap(m, h)), toInt(cap(m, mi)), s >= 0 && has(m, s) ? toInt(cap(m, s)) : 0);
}

// ---------------------------------------------------------------- the format builders
// Each takes the match of its pattern (see the table) and returns the candidate.
//
// [seed sample only]: the SMS format notes (formats.md) have no sample of these (for most they
// say none was found); the one sample known is on the Trackbox supported-formats page that the
// seed list copies. The parser reads what that sample shows; fields whose meaning the page
// does not explain are passed on in the note, not guessed.

// $GPRMC,hhmmss.sss,A|V,ddmm.mmmm,N|S,dddmm.mmmm,E|W,knots,course,ddmmyy,magvar,E|W,mode*hh
Candidate buildRmc(const QRegularExpressionMatch &m, const Ctx &ctx) {
    Fix f(m);
    f.utc = true;
    const QStringList v = m.captured(3).split(u',');
    checkNmeaChecksum(f, QString(m.captured(2) + QLatin1Char(',') + m.captured(3)), cap(m, 4));
    if (v.size() < 6)
        f.fail(QStringLiteral("truncated RMC sentence"));
    else {
        const QString status = v[1];
        if (v[2].isEmpty() || v[4].isEmpty())
            f.fail(status == u"V" ? QStringLiteral("no fix (status V, no coordinates)") : QStringLiteral("no coordinates"));
        if (status == u"V")
            f.valid = false;
        else if (status != u"A")
            f.fail(QStringLiteral("bad RMC status '%1'").arg(status));
        if (v.size() > 11 && v[11].startsWith(u'N'))
            f.valid = false;   // NMEA 2.3 mode indicator N = data not valid
        f.setHhmmss(v[0]);
        f.setLat(nmeaDegrees(v[2]), v[3]);
        f.setLon(nmeaDegrees(v[4]), v[5]);
        if (v[3] != u"N" && v[3] != u"S") f.fail(QStringLiteral("bad N/S"));
        if (v[5] != u"E" && v[5] != u"W") f.fail(QStringLiteral("bad E/W"));
        if (v.size() > 6) f.setSpeed(v[6], kKnotKmh);
        if (v.size() > 7) f.setCourse(v[7]);
        if (v.size() > 8) f.setDdmmyy(v[8]);
        if (!f.valid && status == u"V")
            f.note(QStringLiteral("status V: receiver warning, not a current fix"));
    }
    return finish(f, ctx);
}

// $GPGGA,hhmmss.sss,ddmm.mmmm,N,dddmm.mmmm,E,quality,sats,hdop,alt,M,geoid,M,age,station*hh
Candidate buildGga(const QRegularExpressionMatch &m, const Ctx &ctx) {
    Fix f(m);
    f.utc = true;
    const QStringList v = m.captured(3).split(u',');
    checkNmeaChecksum(f, QString(m.captured(2) + QLatin1Char(',') + m.captured(3)), cap(m, 4));
    if (v.size() < 6)
        f.fail(QStringLiteral("truncated GGA sentence"));
    else {
        if (v[1].isEmpty() || v[3].isEmpty())
            f.fail(QStringLiteral("no coordinates"));
        f.setHhmmss(v[0]);
        f.setLat(nmeaDegrees(v[1]), v[2]);
        f.setLon(nmeaDegrees(v[3]), v[4]);
        if (v[2] != u"N" && v[2] != u"S") f.fail(QStringLiteral("bad N/S"));
        if (v[4] != u"E" && v[4] != u"W") f.fail(QStringLiteral("bad E/W"));
        const int quality = toInt(v[5]);
        if (quality < 0) f.fail(QStringLiteral("bad fix quality '%1'").arg(v[5]));
        if (quality == 0) f.valid = false;
        f.note(QStringLiteral("fix quality %1").arg(quality));
        if (v.size() > 6 && !v[6].isEmpty()) {
            if (const int n = toInt(v[6]); n >= 0) f.satellites = n;
            else f.fail(QStringLiteral("bad satellite count '%1'").arg(v[6]));
        }
        if (v.size() > 9) f.setAltitude(v[8]);
    }
    return finish(f, ctx);
}

// $PWS,version,"name",icon,colour,DDMMYY[YY],HHMMSS[.ss],lat,lon,elev ft,speed kn,course,"comment",...*hh
// The *hh of the published samples matches no XOR/sum variant, so it is not checked.
Candidate buildPathAway(const QRegularExpressionMatch &m, const Ctx &ctx) {
    Fix f(m);
    f.utc = true;
    const QStringList v = splitCsv(cap(m, 1));
    if (v.size() < 8)
        return notThis();
    if (!v[1].isEmpty()) f.note(QStringLiteral("name %1").arg(v[1]));
    f.setDdmmyy(v[4]);
    f.setHhmmss(v[5]);
    f.setLat(toNum(v[6]));
    f.setLon(toNum(v[7]));
    if (v.size() > 8) f.setAltitude(v[8], kFootM);
    if (v.size() > 9) f.setSpeed(v[9], kKnotKmh);
    if (v.size() > 10 && v[10].trimmed() != u"-1") f.setCourse(v[10]);   // -1 = unknown
    if (v.size() > 11 && !v[11].isEmpty()) f.note(QStringLiteral("comment %1").arg(v[11]));
    return finish(f, ctx);
}

// Touratech QV [seed sample only]: $QVPOS,name,?,ddmmyy,hhmmss.sss,lat,lon,...
Candidate buildQvpos(const QRegularExpressionMatch &m, const Ctx &ctx) {
    Fix f(m);
    const QStringList v = cap(m, 1).toString().split(u',');
    if (v.size() < 6)
        return notThis();
    if (!v[0].isEmpty()) f.note(QStringLiteral("name %1").arg(v[0]));
    f.setDdmmyy(v[2]);
    f.setHhmmss(v[3]);
    f.setLat(toNum(v[4]));
    f.setLon(toNum(v[5]));
    if (v.size() > 6)
        f.note(QStringLiteral("fields %1 not decoded (meaning undocumented)").arg(v.mid(6).join(u',')));
    return finish(f, ctx);
}

// ?IMEI,?,?,ddmmyy,hhmmss,E|Wdddmm.mmmm,N|Sddmm.mmmm,alt,knots,course,sats,hdop!  (lon first)
Candidate buildTr150(const QRegularExpressionMatch &m, const Ctx &ctx) {
    Fix f(m);
    f.note(QStringLiteral("IMEI %1").arg(cap(m, 1)));
    f.setDdmmyy(cap(m, 4));
    f.setHhmmss(cap(m, 5));
    f.setLon(nmeaDegrees(cap(m, 7)), cap(m, 6));
    f.setLat(nmeaDegrees(cap(m, 9)), cap(m, 8));
    f.setAltitude(cap(m, 10));
    f.setSpeed(cap(m, 11), kKnotKmh);
    f.setCourse(cap(m, 12));
    if (has(m, 13)) f.satellites = toInt(cap(m, 13));
    if (has(m, 14)) f.note(QStringLiteral("HDOP %1").arg(cap(m, 14)));
    return finish(f, ctx);
}

// Benefon MPTP: !LOC_..._N52.10.18,3_E011.33.16,9_30.05.2006_16:36:01_010km/h_123deg
// (hemisphere first, deg.min.sec with a decimal comma).
Candidate buildBenefon(const QRegularExpressionMatch &m, const Ctx &ctx) {
    Fix f(m);
    const QString kind = m.captured(1);
    f.note(kind);
    auto dmsComma = [&](int g) {
        const double sec = toInt(cap(m, g + 2)) + toInt(cap(m, g + 3)) / std::pow(10.0, double(cap(m, g + 3).size()));
        return fromDms(toInt(cap(m, g)), toInt(cap(m, g + 1)), sec);
    };
    f.setLat(dmsComma(3), cap(m, 2));
    f.setLon(dmsComma(8), cap(m, 7));
    f.setDate(toInt(cap(m, 14)), toInt(cap(m, 13)), toInt(cap(m, 12)));
    f.setTime(toInt(cap(m, 15)), toInt(cap(m, 16)), toInt(cap(m, 17)));
    f.setSpeed(cap(m, 18));
    f.setCourse(cap(m, 19));
    if (kind == u"EGN")
        f.note(QStringLiteral("GSM cell fields not decoded"));
    else if (has(m, 20))
        f.note(cap(m, 20).toString().simplified());
    if (kind == u"EMG")
        f.note(QStringLiteral("emergency"));
    return finish(f, ctx);
}

// GPSWPT Lat N 052 Deg 018 001.473 Lon E 013 Deg 021 006.241 Alt 00227m 13:51:50Z 18.10.06
// The third number is read as seconds (unverified: no manual found).
Candidate buildGpswpt(const QRegularExpressionMatch &m, const Ctx &ctx) {
    Fix f(m);
    f.setLat(fromDms(toInt(cap(m, 2)), toInt(cap(m, 3)), toNum(cap(m, 4)).value_or(-1)), cap(m, 1));
    f.setLon(fromDms(toInt(cap(m, 6)), toInt(cap(m, 7)), toNum(cap(m, 8)).value_or(-1)), cap(m, 5));
    f.setAltitude(cap(m, 9));
    if (has(m, 10)) {
        f.utc = true;   // the 'Z'
        setDateTimeCaps(f, m, 15, 14, 13, 10, 11, 12);
    }
    return finish(f, ctx);
}

// Tripaal TP-005 [seed sample only]: *id*dddmm.mmmm,E,ddmm.mmmm,N,x,y*ddmmyy,hhmmss.sss**  (lon first)
Candidate buildTripaal(const QRegularExpressionMatch &m, const Ctx &ctx) {
    Fix f(m);
    f.setLon(nmeaDegrees(cap(m, 2)), cap(m, 3));
    f.setLat(nmeaDegrees(cap(m, 4)), cap(m, 5));
    f.setDdmmyy(cap(m, 8));
    f.setHhmmss(cap(m, 9));
    f.note(QStringLiteral("record %1; fields %2,%3 not decoded (meaning undocumented)").arg(cap(m, 1), cap(m, 6), cap(m, 7)));
    return finish(f, ctx);
}

// Fleetec II+ [seed sample only]: MyCar:V00,ddmmyy,hhmmss,ddmm.mmmm,N,dddmm.mmmm,E,...
Candidate buildFleetec(const QRegularExpressionMatch &m, const Ctx &ctx) {
    Fix f(m);
    f.note(QStringLiteral("reason %1").arg(cap(m, 1)));
    f.setDdmmyy(cap(m, 2));
    f.setHhmmss(cap(m, 3));
    f.setLat(nmeaDegrees(cap(m, 4)), cap(m, 5));
    f.setLon(nmeaDegrees(cap(m, 6)), cap(m, 7));
    if (has(m, 8))
        f.note(QStringLiteral("fields %1 not decoded (meaning undocumented)").arg(cap(m, 8).mid(1)));
    return finish(f, ctx);
}

// Haicom HI-601VT [seed sample only]: HC-V3.5*SENSOR*A,N,52"8'9.0,E,011"32'15.7,023.2,156.7*
Candidate buildHaicom(const QRegularExpressionMatch &m, const Ctx &ctx) {
    Fix f(m);
    if (has(m, 1)) f.note(cap(m, 1).toString().simplified());
    f.valid = cap(m, 2) == u"A";
    f.setLat(fromDms(toInt(cap(m, 4)), toInt(cap(m, 5)), toNum(cap(m, 6)).value_or(-1)), cap(m, 3));
    f.setLon(fromDms(toInt(cap(m, 8)), toInt(cap(m, 9)), toNum(cap(m, 10)).value_or(-1)), cap(m, 7));
    if (has(m, 11))
        f.note(QStringLiteral("fields %1 not decoded (meaning undocumented)").arg(cap(m, 11).mid(1)));
    return finish(f, ctx);
}

// SPT100 / TK5000 [seed sample only]: id,yyyymmddhhmmss,lon,lat,...  (lon first: the sample's
// numbers are the GPRMC sample's 52.136087/11.537557 swapped)
Candidate buildSpt100(const QRegularExpressionMatch &m, const Ctx &ctx) {
    Fix f(m);
    f.note(QStringLiteral("device %1").arg(cap(m, 1)));
    setDateTimeCaps(f, m, 2, 3, 4, 5, 6, 7);
    if (f.badTime)
        f.fail(QStringLiteral("bad time stamp"));
    f.setLon(toNum(cap(m, 8)));
    f.setLat(toNum(cap(m, 9)));
    if (has(m, 10))
        f.note(QStringLiteral("fields %1 not decoded (meaning undocumented)").arg(cap(m, 10).mid(1)));
    return finish(f, ctx);
}

// Phonetracker [seed sample only]: #PHONETRACKER# PosMsg dd.mm.yyyy hh:mm:ss lat,lon,...
Candidate buildPhonetracker(const QRegularExpressionMatch &m, const Ctx &ctx) {
    Fix f(m);
    if (has(m, 1)) f.note(cap(m, 1).toString());
    setDateTimeCaps(f, m, 4, 3, 2, 5, 6, 7);
    f.setLat(toNum(cap(m, 8)));
    f.setLon(toNum(cap(m, 9)));
    if (has(m, 10))
        f.note(QStringLiteral("fields %1 not decoded (meaning undocumented)").arg(cap(m, 10).mid(1)));
    return finish(f, ctx);
}

// Teltonika GH1202: BAT! Id:GH1202 Imei:... Time:yyyy.mm.dd hh:mm:ss Fix:lat,lon Sat:n
Candidate buildTeltonika(const QRegularExpressionMatch &m, const Ctx &ctx) {
    Fix f(m);
    f.note(cap(m, 1).toString());
    if (has(m, 2)) f.note(QStringLiteral("Id %1").arg(cap(m, 2)));
    if (has(m, 3) && cap(m, 3).front().isDigit()) f.note(QStringLiteral("IMEI %1").arg(cap(m, 3)));
    setDateTimeCaps(f, m, 4, 5, 6, 7, 8, 9);
    f.setLat(toNum(cap(m, 10)));
    f.setLon(toNum(cap(m, 11)));
    if (has(m, 12)) f.satellites = toInt(cap(m, 12));
    return finish(f, ctx);
}

// PT-9: TIMER! yyyy/mm/dd, hh:mm:ss, N, Lat:ddmm.mmmm, E, Lon:dddmm.mmmm, Spd:x
Candidate buildPt9(const QRegularExpressionMatch &m, const Ctx &ctx) {
    Fix f(m);
    f.note(cap(m, 1).toString());
    setDateTimeCaps(f, m, 2, 3, 4, 5, 6, 7);
    f.setLat(nmeaDegrees(cap(m, 9)), cap(m, 8));
    f.setLon(nmeaDegrees(cap(m, 11)), cap(m, 10));
    if (has(m, 12)) {
        f.setSpeed(cap(m, 12));
        f.note(QStringLiteral("speed unit not stated, km/h assumed"));
    }
    return finish(f, ctx);
}

// P-1: Last: Latitude = 52 11 29.03N Longitude = 013 20 15.38E,Speed = 000.00Km/h,2008-06-10,23:54
Candidate buildP1(const QRegularExpressionMatch &m, const Ctx &ctx) {
    Fix f(m);
    if (cap(m, 1).compare(u"Last", Qt::CaseInsensitive) == 0)
        f.note(QStringLiteral("last known fix"));
    f.setLat(fromDms(toInt(cap(m, 2)), toInt(cap(m, 3)), toNum(cap(m, 4)).value_or(-1)), cap(m, 5));
    f.setLon(fromDms(toInt(cap(m, 6)), toInt(cap(m, 7)), toNum(cap(m, 8)).value_or(-1)), cap(m, 9));
    f.setSpeed(cap(m, 10));
    setDateTimeCaps(f, m, 11, 12, 13, 14, 15, 16);
    return finish(f, ctx);
}

// Globalsat TR-101/102: Position Report: 2006/8/18 14:31:29 52.191615,013.337700 GPS Fixed
Candidate buildGlobalsat(const QRegularExpressionMatch &m, const Ctx &ctx) {
    Fix f(m);
    if (has(m, 1)) f.note(cap(m, 1).toString().simplified());
    setDateTimeCaps(f, m, 2, 3, 4, 5, 6, 7);
    f.setLat(toNum(cap(m, 8)));
    f.setLon(toNum(cap(m, 9)));
    if (has(m, 10)) {
        f.valid = !cap(m, 10).contains(u"not", Qt::CaseInsensitive);
        f.note(cap(m, 10).toString().simplified());
    }
    return finish(f, ctx);
}

// Navideo LOC LAT:52.192905,LON:13.463279
Candidate buildNavideoLoc(const QRegularExpressionMatch &m, const Ctx &ctx) {
    Fix f(m);
    f.setLat(toNum(cap(m, 1)));
    f.setLon(toNum(cap(m, 2)));
    return finish(f, ctx);
}

int monthFromName(QStringView name) {
    static const struct { const char16_t *prefix; int month; } months[] = {
        {u"jan", 1}, {u"feb", 2}, {u"mar", 3}, {u"m\u00e4r", 3}, {u"apr", 4}, {u"may", 5}, {u"mai", 5},
        {u"jun", 6}, {u"jul", 7}, {u"aug", 8}, {u"sep", 9}, {u"oct", 10}, {u"okt", 10}, {u"nov", 11},
        {u"dec", 12}, {u"dez", 12},
    };
    for (const auto &mo : months)
        if (name.startsWith(QStringView(mo.prefix), Qt::CaseInsensitive))
            return mo.month;
    return -1;
}

// Navideo T1 [seed sample only]: 26. September 2008,10.34.16,5211.2903,N,01320.6936,E
Candidate buildNavideoT1(const QRegularExpressionMatch &m, const Ctx &ctx) {
    const int month = monthFromName(cap(m, 2));
    if (month < 0)
        return notThis();
    Fix f(m);
    f.setDate(toInt(cap(m, 3)), month, toInt(cap(m, 1)));
    f.setTime(toInt(cap(m, 4)), toInt(cap(m, 5)), toInt(cap(m, 6)));
    f.setLat(nmeaDegrees(cap(m, 7)), cap(m, 8));
    f.setLon(nmeaDegrees(cap(m, 9)), cap(m, 10));
    return finish(f, ctx);
}

// BlueSky [seed sample only]: BLUESKY 03.02.2007 10.24.42 POSITION VALID N 52.001038 E 11.668993 5 km to SBK
Candidate buildBluesky(const QRegularExpressionMatch &m, const Ctx &ctx) {
    Fix f(m);
    setDateTimeCaps(f, m, 3, 2, 1, 4, 5, 6);
    f.valid = cap(m, 7).compare(u"VALID", Qt::CaseInsensitive) == 0;
    f.note(QStringLiteral("position %1").arg(cap(m, 7).toString().simplified().toLower()));
    f.setLat(toNum(cap(m, 9)), cap(m, 8));
    f.setLon(toNum(cap(m, 11)), cap(m, 10));
    if (has(m, 12)) f.note(cap(m, 12).toString().simplified());
    return finish(f, ctx);
}

// GPS W.A.I.T. / GPS.Pi [seed sample only]: GPS;lat;lon[;...]
Candidate buildGpsWait(const QRegularExpressionMatch &m, const Ctx &ctx) {
    Fix f(m);
    f.setLat(toNum(cap(m, 1)));
    f.setLon(toNum(cap(m, 2)));
    if (has(m, 3))
        f.note(QStringLiteral("extended fields %1 not decoded (meaning undocumented)").arg(cap(m, 3).mid(1)));
    return finish(f, ctx);
}

// Midland GEO: GEO,ID:GLORIA,SOS ALARM,POS:45g37.9480N,008g28.9992E,ALT:0218m,07/04/10,10:09  (yy/mm/dd)
Candidate buildMidland(const QRegularExpressionMatch &m, const Ctx &ctx) {
    Fix f(m);
    if (has(m, 1)) f.note(QStringLiteral("ID %1").arg(cap(m, 1)));
    if (has(m, 2)) f.note(cap(m, 2).toString().simplified());
    if (has(m, 3)) f.note(QStringLiteral("last known fix"));
    const auto degMin = [&](int g) -> std::optional<double> {
        const auto min = toNum(cap(m, g + 1));
        if (!min) return std::nullopt;
        return fromDms(toInt(cap(m, g)), *min, 0);
    };
    f.setLat(degMin(4), cap(m, 6));
    f.setLon(degMin(7), cap(m, 9));
    f.setAltitude(cap(m, 10));
    setDateTimeCaps(f, m, 11, 12, 13, 14, 15, -1);
    return finish(f, ctx);
}

// gpspilot [seed sample only]: <rpt> <l> N 54 2.877' E013 12.100' <t> 14:13 UTC 06-05-10 <h> 010 <s> 5 kph <e> 1 m
// The order of the date's day/month/year is not documented: only the time of day is used.
Candidate buildGpspilot(const QRegularExpressionMatch &m, const Ctx &ctx) {
    Fix f(m);
    f.setLat(fromDms(toInt(cap(m, 2)), toNum(cap(m, 3)).value_or(-1), 0), cap(m, 1));
    f.setLon(fromDms(toInt(cap(m, 5)), toNum(cap(m, 6)).value_or(-1), 0), cap(m, 4));
    if (has(m, 7)) {
        f.utc = has(m, 10);
        f.setTime(toInt(cap(m, 7)), toInt(cap(m, 8)), has(m, 9) ? toInt(cap(m, 9)) : 0);
    }
    if (has(m, 11))
        f.note(QStringLiteral("date %1 not used (day/month/year order undocumented)").arg(cap(m, 11)));
    f.setCourse(cap(m, 12));
    f.setSpeed(cap(m, 13));
    f.setAltitude(cap(m, 14));
    return finish(f, ctx);
}

// CinnDev EMERGENCY [seed sample only]: An emergency distress beacon was set off by ___ at location 52.188172, 13.344893
Candidate buildCinndev(const QRegularExpressionMatch &m, const Ctx &ctx) {
    Fix f(m);
    f.note(QStringLiteral("emergency beacon (%1)").arg(cap(m, 1).toString().simplified()));
    f.setLat(toNum(cap(m, 2)));
    f.setLon(toNum(cap(m, 3)));
    return finish(f, ctx);
}

// V-Sun TK205: Lat: +22.50500\nLong: +114.01000\nSpeed: 0.00KM/H\nDirection: 315.00\nDate: ...\nTime: ...\nFix: A
Candidate buildVsun(const QRegularExpressionMatch &m, const Ctx &ctx) {
    Fix f(m);
    f.setLat(toNum(cap(m, 1)));
    f.setLon(toNum(cap(m, 2)));
    f.setSpeed(cap(m, 3));
    f.setCourse(cap(m, 4));
    setDateTimeCaps(f, m, 5, 6, 7, 8, 9, 10);
    if (has(m, 11)) f.valid = cap(m, 11).compare(u"A", Qt::CaseInsensitive) == 0;
    if (has(m, 12)) f.note(QStringLiteral("ID %1").arg(cap(m, 12)));
    return finish(f, ctx);
}

// GT06/Concox WHERE#: [Current position!]Lat:N22.571285,Lon:E113.877115,Course:42.20,Speed:0.0740,DateTime:10-11-23 22:28
Candidate buildGt06Where(const QRegularExpressionMatch &m, const Ctx &ctx) {
    Fix f(m);
    if (has(m, 1)) f.note(cap(m, 1).toString());
    f.setLat(toNum(cap(m, 3)), cap(m, 2));
    f.setLon(toNum(cap(m, 5)), cap(m, 4));
    f.setCourse(cap(m, 6));
    if (has(m, 7)) {
        f.setSpeed(cap(m, 7));
        if (!has(m, 8))
            f.note(QStringLiteral("speed unit not stated, km/h assumed"));
    }
    setDateTimeCaps(f, m, 9, 10, 11, 12, 13, 14);
    return finish(f, ctx);
}

// GT06/Concox URL#: <DateTime:10-11-23 23:42:51> http://maps.google.com/maps?q=N22.571490,E113.877103
Candidate buildGt06Url(const QRegularExpressionMatch &m, const Ctx &ctx) {
    Fix f(m);
    if (!setFromUrl(f, m, 7))
        return notThis();
    setDateTimeCaps(f, m, 1, 2, 3, 4, 5, 6);
    return finish(f, ctx);
}

// Coban/TK10x g1234 reply: <link> ID:9171072755 ACC:OFF GPS:A Speed:38.00KM/H 19-12-30 03:20:08
Candidate buildCoban(const QRegularExpressionMatch &m, const Ctx &ctx) {
    Fix f(m);
    if (!setFromUrl(f, m, 1))
        return notThis();
    if (has(m, 2)) f.note(QStringLiteral("ID %1").arg(cap(m, 2)));
    if (has(m, 3)) f.note(QStringLiteral("ACC %1").arg(cap(m, 3).toString().toUpper()));
    f.valid = cap(m, 4).compare(u"A", Qt::CaseInsensitive) == 0;
    f.setSpeed(cap(m, 5));
    setDateTimeCaps(f, m, 6, 7, 8, 9, 10, 11);
    return finish(f, ctx);
}

// Queclink GL100/GT300: <link> F1 D2009/01/01T00:00:00 B74%   (F1 = GPS fix, time UTC)
Candidate buildQueclink(const QRegularExpressionMatch &m, const Ctx &ctx) {
    Fix f(m);
    if (!setFromUrl(f, m, 1))
        return notThis();
    f.valid = cap(m, 2) == u"1";
    f.utc = true;
    setDateTimeCaps(f, m, 3, 4, 5, 6, 7, 8);
    if (has(m, 9)) f.note(QStringLiteral("battery %1%").arg(cap(m, 9)));
    return finish(f, ctx);
}

// GPSed [seed sample only]: http://where.gpsed.com/w.php?lat=52.177337&lon=11.583638 ; any map link.
Candidate buildLink(const QRegularExpressionMatch &m, const Ctx &ctx) {
    Fix f(m);
    if (!setFromUrl(f, m, 0))
        return notThis();
    return finish(f, ctx);
}

// PATROL HAWK: Track Latitude:+54.1147;Longitude:+012.2727,Speed:0;ACC:ON
Candidate buildPatrolHawk(const QRegularExpressionMatch &m, const Ctx &ctx) {
    Fix f(m);
    if (has(m, 1)) f.note(cap(m, 1).toString());
    f.setLat(toNum(cap(m, 2)));
    f.setLon(toNum(cap(m, 3)));
    if (has(m, 4)) {
        f.setSpeed(cap(m, 4));
        f.note(QStringLiteral("speed unit not stated, km/h assumed"));
    }
    if (has(m, 5)) f.note(QStringLiteral("ACC %1").arg(cap(m, 5).toString().toUpper()));
    return finish(f, ctx);
}

// Xexun TK102 / TK102-2 / TK-203:
//   lat: 52.177337 long: 011.583638 speed: 020.0 03/03/08 14:37 ... imei:...
//   lat: 52.177337N long: 011.583638E speed: 020.0 10.03.2008 14:37 bat:F signal:F
// Date DD/MM/YY or DD.MM.YYYY in device time; speed km/h.
Candidate buildXexun(const QRegularExpressionMatch &m, const Ctx &ctx) {
    Fix f(m);
    f.setLat(toNum(cap(m, 1)), cap(m, 2));
    f.setLon(toNum(cap(m, 3)), cap(m, 4));
    f.setSpeed(cap(m, 5));
    if (has(m, 6))
        setDateTimeCaps(f, m, 9, 8, 6, 10, 11, 12);
    return finish(f, ctx);
}

// Notes that follow a Xexun record on the same line (SOS, low battery, IMEI). Bounded look-ahead.
void addXexunTail(SmsPosition &p, const QString &text) {
    const int from = p.offset + p.length;
    int to = int(std::min<qsizetype>(text.size(), from + 160));
    const qsizetype next = text.indexOf(QLatin1String("lat:"), from, Qt::CaseInsensitive);
    if (next >= 0 && next < to)
        to = int(next);
    const QStringView tail = QStringView(text).mid(from, to - from);
    static const QRegularExpression sos = compiledRe(QStringLiteral(R"re(\b(?:help|heip) me\b)re"), QRegularExpression::CaseInsensitiveOption);
    static const QRegularExpression lowBat = compiledRe(QStringLiteral(R"re(\blow bat|\bL:\d)re"), QRegularExpression::CaseInsensitiveOption);
    static const QRegularExpression imei = compiledRe(QStringLiteral(R"re(\bimei:\s*(\d{15})\b)re"), QRegularExpression::CaseInsensitiveOption);
    QStringList notes;
    if (sos.matchView(tail).hasMatch()) notes << QStringLiteral("SOS (help me)");
    if (lowBat.matchView(tail).hasMatch()) notes << QStringLiteral("low battery");
    if (const auto mi = imei.matchView(tail); mi.hasMatch()) notes << QStringLiteral("IMEI %1").arg(mi.capturedView(1));
    if (notes.isEmpty())
        return;
    if (!p.note.isEmpty())
        notes.prepend(p.note);
    p.note = notes.join(QStringLiteral("; "));
}

// Generic: ddmm.mmmm,N,dddmm.mmmm,E anywhere (unknown NMEA-like CSV texts)
Candidate buildNmeaPair(const QRegularExpressionMatch &m, const Ctx &ctx) {
    Fix f(m);
    f.setLat(nmeaDegrees(cap(m, 1)), cap(m, 2));
    f.setLon(nmeaDegrees(cap(m, 3)), cap(m, 4));
    return finish(f, ctx);
}

// Generic: N52.1234 E13.1234 / 52.1234N, 13.1234E
Candidate buildHemispherePair(const QRegularExpressionMatch &m, const Ctx &ctx) {
    Fix f(m);
    if (has(m, 1)) {
        f.setLat(toNum(cap(m, 2)), cap(m, 1));
        f.setLon(toNum(cap(m, 4)), cap(m, 3));
    } else {
        f.setLat(toNum(cap(m, 5)), cap(m, 6));
        f.setLon(toNum(cap(m, 7)), cap(m, 8));
    }
    return finish(f, ctx);
}

// Generic: "lat ... lon ..." labelled decimal pair
Candidate buildLabelledPair(const QRegularExpressionMatch &m, const Ctx &ctx) {
    Fix f(m);
    f.setLat(toNum(cap(m, 1)), cap(m, 2));
    f.setLon(toNum(cap(m, 3)), cap(m, 4));
    return finish(f, ctx);
}

// Generic: bare "lat,lon" with at least 4 decimals each
Candidate buildDecimalPair(const QRegularExpressionMatch &m, const Ctx &ctx) {
    Fix f(m);
    f.setLat(toNum(cap(m, 1)));
    f.setLon(toNum(cap(m, 2)));
    return finish(f, ctx);
}

// ---------------------------------------------------------------- the registry

// Where a format's description comes from.
const char *const kSample = "sample in the SMS references (tests/data/sms_vectors.tsv)";
const char *const kSeed = "sample only on the Trackbox formats page (seed list); further fields unverified";
const char *const kBoth = "samples in the SMS references and on the Trackbox formats page";
const char *const kGeneric = "generic fallback scanner";

struct Format {
    const char *id;
    const char *name;
    const char *evidence;
    const char *pattern;
    bool caseInsensitive;
    Candidate (*build)(const QRegularExpressionMatch &, const Ctx &);
};

#define TD_URL R"re((?:https?://|www\.|(?<![\w.-])maps\.google\.)[^\s<>"']{1,1000}+)re"

// Specific formats first, generic fallbacks last: an earlier match claims its characters.
const Format kFormats[] = {
    {"nmea-rmc", "NMEA $GPRMC", kBoth,
     R"re((\$)?(?<![A-Za-z0-9])((?:GP|GN|GL|GA|GB|BD)RMC),([^*\s$]{0,200}+)(?:\*([0-9A-Fa-f]{2}))?)re", false, &buildRmc},
    {"nmea-gga", "NMEA $GPGGA", kBoth,
     R"re((\$)?(?<![A-Za-z0-9])((?:GP|GN|GL|GA|GB|BD)GGA),([^*\s$]{0,200}+)(?:\*([0-9A-Fa-f]{2}))?)re", false, &buildGga},
    {"pathaway", "PathAway $PWS", kBoth,
     R"re(\$PWS,([^\r\n]{0,300}?)(?:\*[0-9A-Fa-f]{2}(?![0-9A-Za-z])|(?=[\r\n]|$)))re", false, &buildPathAway},
    {"qvpos", "Touratech QV $QVPOS", kSeed,
     R"re(\$QVPOS,([^*\r\n]{0,200}+)(?:\*[0-9A-Fa-f]{2})?)re", false, &buildQvpos},
    {"globalsat-tr150", "Globalsat TR-150 Format1", kBoth,
     R"re(\?(\d{15}),(\d{1,3}),(\d{1,3}),(\d{6}),(\d{6}),([EW])(\d{5}\.\d{1,6}),([NS])(\d{4}\.\d{1,6}),([^,!\s]{0,10}),([^,!\s]{0,10}),([^,!\s]{0,10}),([^,!\s]{0,4}),([^,!\s]{0,6})!)re",
     false, &buildTr150},
    {"benefon", "Benefon LOC/EMG/EGN (MPTP)", kBoth,
     R"re(!(LOC|EMG|EGN)_(?:[^!\r\n]{0,40}?_)?([NS])(\d{1,2})\.(\d{1,2})\.(\d{1,2}),(\d{1,4})_([EW])(\d{1,3})\.(\d{1,2})\.(\d{1,2}),(\d{1,4})_(\d{1,2})\.(\d{1,2})\.(\d{4})_(\d{1,2}):(\d{2}):(\d{2})(?:_(\d{1,3})km/h_(\d{1,3})deg)?(?:_([^\r\n]{1,80}+))?)re",
     false, &buildBenefon},
    {"gpswpt", "GPSWPT (Thuraya / Hughes 7101)", kBoth,
     R"re(GPSWPT\s+Lat\s+([NS])\s+(\d{1,3})\s+Deg\s+(\d{1,3})\s+(\d{1,3}(?:\.\d{1,6})?)\s+Lon\s+([EW])\s+(\d{1,3})\s+Deg\s+(\d{1,3})\s+(\d{1,3}(?:\.\d{1,6})?)(?:\s+Alt\s+(-?\d{1,6})\s?m)?(?:\s+(\d{1,2}):(\d{2}):(\d{2})Z(?:\s+(\d{1,2})\.(\d{1,2})\.(\d{2,4}))?)?)re",
     true, &buildGpswpt},
    {"tripaal", "Tripaal TP-005", kSeed,
     R"re(\*([0-9A-Fa-f]{1,16})\*(\d{5}\.\d{1,6}),([EW]),(\d{4}\.\d{1,6}),([NS]),([\d.]{0,10}),([\d.]{0,10})\*(\d{6}),(\d{6}(?:\.\d{1,3})?)\*{1,2})re",
     false, &buildTripaal},
    {"fleetec", "Fleetec II+ (MyCar:)", kSeed,
     R"re(MyCar:\s*([A-Z]\d{2}),(\d{6}),(\d{6}(?:\.\d{1,3})?),(\d{4}\.\d{1,6}),([NS]),(\d{5}\.\d{1,6}),([EW])((?:,[^,\s]{0,10}){0,12}))re",
     false, &buildFleetec},
    {"haicom", "Haicom HI-601VT (HC-V3.5)", kSeed,
     R"re(HC-V[\d.]{1,6}\*([A-Za-z ]{0,20})\*([AV]),([NS]),(\d{1,2})"(\d{1,2})'(\d{1,2}(?:\.\d{1,3})?),([EW]),(\d{1,3})"(\d{1,2})'(\d{1,2}(?:\.\d{1,3})?)((?:,[\d.]{0,8}){0,2})\*?)re",
     false, &buildHaicom},
    {"spt100", "SPT100 / SPT-10 / TK5000", kSeed,
     R"re((?<![\w.,])(\d{6,15}),(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2}),([+-]?\d{1,3}\.\d{3,10}),([+-]?\d{1,3}\.\d{3,10})(?![\d.])((?:,[+-]?\d{0,8}(?:\.\d{1,6})?){0,8}))re",
     false, &buildSpt100},
    {"phonetracker", "Phonetracker", kSeed,
     R"re(#PHONETRACKER#\s*(?:([A-Za-z]\w{0,19})\s+)?(\d{1,2})\.(\d{1,2})\.(\d{4})\s+(\d{1,2}):(\d{2}):(\d{2})\s+([+-]?\d{1,3}\.\d{1,10}),\s*([+-]?\d{1,3}\.\d{1,10})((?:,[+-]?\d{1,8}(?:\.\d{1,6})?){0,3}))re",
     true, &buildPhonetracker},
    {"teltonika", "Teltonika GH1202", kBoth,
     R"re(([A-Z][A-Za-z]{1,11})!(?:\s+Id:\s*(\S{1,20}))?(?:\s+Imei:\s*(\S{1,20}))?\s+Time:\s*(\d{4})\.(\d{1,2})\.(\d{1,2})\s+(\d{1,2}):(\d{2}):(\d{2})\s+Fix:\s*([+-]?\d{1,3}\.\d{1,10}),\s*([+-]?\d{1,3}\.\d{1,10})(?:\s+Sat:\s*(\d{1,2}))?)re",
     false, &buildTeltonika},
    {"pt9", "PT-9 (TIMER!/SOS!)", kBoth,
     R"re(([A-Z][A-Za-z]{1,11})!\s*(\d{4})/(\d{1,2})/(\d{1,2}),\s*(\d{1,2}):(\d{2}):(\d{2}),\s*([NS]),\s*Lat:\s*(\d{4}\.\d{1,6}),\s*([EW]),\s*Lon:\s*(\d{5}\.\d{1,6})(?:,\s*Spd:\s*(\d{1,4}(?:\.\d{1,3})?))?)re",
     false, &buildPt9},
    {"p1", "P-1 (Latitude = d m s)", kBoth,
     R"re((?:(Last|Now|Current)\s*:\s*)?Latitude\s*=\s*(\d{1,3})\s+(\d{1,2})\s+(\d{1,2}(?:\.\d{1,4})?)\s*([NS])[\s,]+Longitude\s*=\s*(\d{1,3})\s+(\d{1,2})\s+(\d{1,2}(?:\.\d{1,4})?)\s*([EW])(?:\s*,\s*Speed\s*=\s*(\d{1,4}(?:\.\d{1,3})?)\s*(?:km/h)?)?(?:\s*,\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*,\s*(\d{1,2}):(\d{2})(?::(\d{2}))?)?)re",
     true, &buildP1},
    {"globalsat-tr101", "Globalsat TR-101/102", kBoth,
     R"re((?:([A-Za-z]+\s[A-Za-z]+):?\s+)?(\d{4})/(\d{1,2})/(\d{1,2})\s+(\d{1,2}):(\d{2}):(\d{2})\s+([+-]?\d{1,3}\.\d{1,10}),\s*([+-]?\d{1,3}\.\d{1,10})(?:\s+(GPS\s+(?:not\s+)?fixed))?)re",
     true, &buildGlobalsat},
    {"navideo-loc", "Navideo LOC", kBoth,
     R"re(Navideo\s+LOC\s+LAT:\s*([+-]?\d{1,3}\.\d{1,10})\s*,\s*LON:\s*([+-]?\d{1,3}\.\d{1,10}))re", true, &buildNavideoLoc},
    {"navideo-t1", "Navideo T1", kSeed,
     R"re((\d{1,2})\.\s*(\p{L}{3,9})\s+(\d{4}),\s*(\d{1,2})\.(\d{2})\.(\d{2}),\s*(\d{4}\.\d{1,6}),\s*([NS]),\s*(\d{5}\.\d{1,6}),\s*([EW]))re",
     false, &buildNavideoT1},
    {"bluesky", "BlueSky GPS", kSeed,
     R"re(BLUESKY\s+(\d{1,2})\.(\d{1,2})\.(\d{4})\s+(\d{1,2})\.(\d{2})\.(\d{2})\s+POSITION\s+((?:NOT\s+|IN)?VALID)\s+([NS])\s*(\d{1,3}\.\d{1,10})\s+([EW])\s*(\d{1,3}\.\d{1,10})(?:\s+(\d{1,5}\s?km\s+to\s+\S{1,30}))?)re",
     true, &buildBluesky},
    {"gps-wait", "GPS W.A.I.T. / GPS.Pi (GPS;lat;lon)", kSeed,
     R"re((?<![A-Za-z0-9])GPS;([+-]?\d{1,3}\.\d{1,10});([+-]?\d{1,3}\.\d{1,10})(?![\d.])((?:;[^;\s]{0,12}){0,4}))re", false, &buildGpsWait},
    {"midland-geo", "Midland GEO (POS:ddgmm.mmmm)", kSample,
     R"re((?:GEO,(?:ID:([^,\r\n]{0,20}),)?(?:([^,:\r\n]{1,30}),)?)?(LAST\s+)?POS:\s*(\d{1,3})g(\d{1,2}(?:\.\d{1,6})?)([NS]),\s*(\d{1,3})g(\d{1,2}(?:\.\d{1,6})?)([EW])(?:,\s*ALT:\s*(-?\d{1,5})m)?(?:,\s*(\d{2})/(\d{2})/(\d{2}),\s*(\d{1,2}):(\d{2}))?)re",
     false, &buildMidland},
    {"gpspilot", "gpspilot <rpt>", kSeed,
     R"re(<rpt>\s*<l>\s*([NS])\s*(\d{1,3})\s+(\d{1,2}(?:\.\d{1,6})?)'\s*([EW])\s*(\d{1,3})\s+(\d{1,2}(?:\.\d{1,6})?)'(?:\s*<t>\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*(UTC)?(?:\s+(\d{2}-\d{2}-\d{2}))?)?(?:\s*<h>\s*(\d{1,3}))?(?:\s*<s>\s*(\d{1,4}(?:\.\d{1,2})?)\s*kph)?(?:\s*<e>\s*(-?\d{1,5})\s*m)?)re",
     true, &buildGpspilot},
    {"cinndev", "CinnDev EMERGENCY beacon", kSeed,
     R"re(emergency\s+distress\s+beacon\s+was\s+set\s+off\s+by\s+(.{0,60}?)\s*at\s+location\s+([+-]?\d{1,3}\.\d{1,10}),\s*([+-]?\d{1,3}\.\d{1,10}))re",
     true, &buildCinndev},
    {"vsun-tk205", "V-Sun TK205 (multi-line)", kSample,
     R"re(Lat:\s*([+-]?\d{1,3}\.\d{1,10})[ \t]*\r?\n[ \t]*Long:\s*([+-]?\d{1,3}\.\d{1,10})(?:\s+Speed:\s*(\d{1,4}(?:\.\d{1,3})?)\s*KM/H)?(?:\s+Direction:\s*(\d{1,3}(?:\.\d{1,3})?))?(?:\s+Date:\s*(\d{4})-(\d{1,2})-(\d{1,2}))?(?:\s+Time:\s*(\d{1,2}):(\d{2}):(\d{2}))?(?:\s+BS:\s*\S{0,16})?(?:\s+Fix:\s*([AV]))?(?:\s+ID:\s*(\d{1,20}))?)re",
     true, &buildVsun},
    {"gt06-where", "GT06/Concox WHERE# reply", kSample,
     R"re((?:([A-Za-z]+(?: [A-Za-z]+)?)!\s*)?Lat:\s*([NS])\s*(\d{1,3}\.\d{1,10})\s*,\s*Lon:\s*([EW])\s*(\d{1,3}\.\d{1,10})(?:\s*,\s*Course:\s*(\d{1,3}(?:\.\d{1,3})?))?(?:\s*,\s*Speed:\s*(\d{1,4}(?:\.\d{1,4})?)\s*(km/h)?)?(?:\s*,\s*DateTime:\s*(\d{4}|\d{2})-(\d{1,2})-(\d{1,2})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?)re",
     true, &buildGt06Where},
    {"gt06-url", "GT06/Concox URL# reply", kSample,
     R"re(<DateTime:\s*(\d{4}|\d{2})-(\d{1,2})-(\d{1,2})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*>\s*()re" TD_URL ")",
     true, &buildGt06Url},
    {"coban-link", "Coban/TK10x map-link reply", kSample,
     "(" TD_URL R"re()\s+(?:ID:\s*(\S{1,24})\s+)?(?:ACC:\s*(ON|OFF)\s+)?GPS:\s*([AV])(?:\s+Speed:\s*(\d{1,4}(?:\.\d{1,3})?)\s*(?:KM/H)?)?(?:\s+(\d{2})-(\d{2})-(\d{2})\s+(\d{2}):(\d{2}):(\d{2}))?)re",
     true, &buildCoban},
    {"queclink-link", "Queclink GL100/GT300 map-link reply", kSample,
     "(" TD_URL R"re()\s+F([01])\s+D(\d{4})/(\d{2})/(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\s+B(\d{1,3})%)?)re",
     false, &buildQueclink},
    {"gpsed", "GPSed link", kSeed,
     R"re((?:https?://)?where\.gpsed\.com/[^\s<>"']{0,1000}+)re", true, &buildLink},
    {"patrol-hawk", "PATROL HAWK GP2000", kBoth,
     R"re((?:([A-Za-z]{1,12})\s+)?Latitude:\s*([+-]?\d{1,3}\.\d{1,10})\s*;\s*Longitude:\s*([+-]?\d{1,3}\.\d{1,10})(?:\s*[,;]\s*Speed:\s*(\d{1,4}(?:\.\d{1,3})?))?(?:\s*[,;]\s*ACC:\s*(ON|OFF))?)re",
     true, &buildPatrolHawk},
    {"xexun", "Xexun TK102 / TK102-2 / TK-203", kBoth,
     R"re((?<![A-Za-z])lat:\s*([+-]?\d{1,3}\.\d{1,10})\s?([NS])?\s*,?\s*long:\s*([+-]?\d{1,3}\.\d{1,10})\s?([EW])?(?:\s*,?\s*speed:\s*(\d{1,4}(?:\.\d{1,3})?))?(?:\s+(\d{1,2})([/.])(\d{1,2})\7(\d{4}|\d{2})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?)re",
     true, &buildXexun},
    {"map-link", "Map link (Google Maps q=/ll=/place, lat=&lon=)", kGeneric, TD_URL, false, &buildLink},
    {"nmea-pair", "NMEA-style ddmm.mmmm,N,dddmm.mmmm,E", kGeneric,
     R"re((?<![\d.])(\d{4}\.\d{2,6}),\s?([NS]),\s?(\d{5}\.\d{2,6}),\s?([EW])(?![A-Za-z]))re", false, &buildNmeaPair},
    {"hemisphere-pair", "Decimal degrees with N/S/E/W", kGeneric,
     R"re((?<![A-Za-z0-9.])([NS])\s?(\d{1,3}\.\d{4,10})(?![\d.])[\s,;/]{1,3}([EW])\s?(\d{1,3}\.\d{4,10})(?![\d.])|(?<![\w.+-])(\d{1,3}\.\d{4,10})\s?([NS])[\s,;/]{1,3}(\d{1,3}\.\d{4,10})\s?([EW])(?![A-Za-z]))re",
     false, &buildHemispherePair},
    {"labelled-pair", "Labelled decimal pair (lat ... lon ...)", kGeneric,
     R"re((?<![A-Za-z])lat(?:itude)?\s{0,2}[:=]?\s{0,2}([+-]?\d{1,3}\.\d{3,10})\s?([NS])?[\s,;/]{0,4}(?:lon(?:g(?:itude)?)?|lng)\s{0,2}[:=]?\s{0,2}([+-]?\d{1,3}\.\d{3,10})\s?([EW])?(?![A-Za-z]))re",
     true, &buildLabelledPair},
    {"decimal-pair", "Bare decimal pair lat,lon", kGeneric,
     R"re((?<![\w.+-])([+-]?\d{1,2}\.\d{4,10}),\s{0,2}([+-]?\d{1,3}\.\d{4,10})(?![\w.]))re", false, &buildDecimalPair},
};

#undef TD_URL

struct Compiled {
    const Format *format;
    QRegularExpression re;
};

const std::vector<Compiled> &compiled() {
    static const std::vector<Compiled> all = [] {
        std::vector<Compiled> v;
        for (const Format &f : kFormats) {
            v.push_back({&f, compiledRe(QString::fromUtf8(f.pattern), f.caseInsensitive ? QRegularExpression::CaseInsensitiveOption
                                                                                          : QRegularExpression::NoPatternOption)});
        }
        return v;
    }();
    return all;
}

bool samePoint(const Position &a, const Position &b) {
    return std::abs(a.latitude - b.latitude) <= kSamePointDeg && std::abs(a.longitude - b.longitude) <= kSamePointDeg;
}

// Two readings of the same point are one position unless the text gives them different
// dates or times of day (a minute apart or more).
bool sameTextTime(const Candidate &a, const Candidate &b) {
    if (a.textDate.isValid() && b.textDate.isValid() && a.textDate != b.textDate)
        return false;
    if (a.textTime.isValid() && b.textTime.isValid() && std::abs(a.textTime.secsTo(b.textTime)) >= 60)
        return false;
    return true;
}

int timeRank(TimeSource s) {
    switch (s) {
    case TimeSource::None: return 0;
    case TimeSource::Received: return 1;
    case TimeSource::TextTimeOfDay: return 2;
    case TimeSource::Text: return 3;
    }
    return 0;
}

// Copies what `into` lacks from another reading of the same point.
void mergeInto(Candidate &into, const Candidate &from) {
    Position &a = into.pos.position;
    const Position &b = from.pos.position;
    if (!a.speedKmh) a.speedKmh = b.speedKmh;
    if (!a.course) a.course = b.course;
    if (!a.altitude) a.altitude = b.altitude;
    if (!a.satellites) a.satellites = b.satellites;
    if (timeRank(from.pos.timeSource) >= 2 && timeRank(from.pos.timeSource) > timeRank(into.pos.timeSource)) {
        a.time = b.time;
        a.timeValid = b.timeValid;
        into.pos.timeSource = from.pos.timeSource;
        into.pos.deviceLocalTime = from.pos.deviceLocalTime;
        if (!into.textDate.isValid()) into.textDate = from.textDate;
        if (!into.textTime.isValid()) into.textTime = from.textTime;
    }
}

struct Span {
    int begin, end;
    int accepted;   // index into the result list, -1 for a refused record
    bool overlaps(int b, int e) const { return b < end && begin < e; }
};

} // namespace

QList<SmsPosition> parsePositions(const QString &text, const QDateTime &received) {
    ParseOptions o;
    o.received = received;
    return parsePositions(text, o);
}

QList<SmsPosition> parsePositions(const QString &text, const ParseOptions &options, QStringList *rejected) {
    if (text.isEmpty())
        return {};
    QList<Candidate> found;
    QList<Span> claims;
    const Ctx ctx{options};
    for (const Compiled &c : compiled()) {
        auto it = c.re.globalMatch(text);
        while (it.hasNext()) {
            const QRegularExpressionMatch m = it.next();
            if (m.capturedLength(0) == 0)
                continue;
            Candidate cand = c.format->build(m, ctx);
            if (cand.kind == Candidate::NotThis)
                continue;
            const int b = cand.offset, e = cand.offset + cand.length;
            cand.pos.format = QString::fromLatin1(c.format->id);
            if (cand.kind == Candidate::Found && c.format->build == &buildXexun)
                addXexunTail(cand.pos, text);

            // 1. overlapping an earlier claim: the earlier (more specific) reading wins.
            const auto overlap = std::find_if(claims.cbegin(), claims.cend(), [&](const Span &s) { return s.overlaps(b, e); });
            if (overlap != claims.cend()) {
                if (cand.kind == Candidate::Found && overlap->accepted >= 0
                    && samePoint(found[overlap->accepted].pos.position, cand.pos.position))
                    mergeInto(found[overlap->accepted], cand);
                continue;
            }
            if (cand.kind == Candidate::Rejected) {
                claims.append({b, e, -1});
                if (rejected)
                    rejected->append(QStringLiteral("%1 at %2: %3").arg(QLatin1String(c.format->id)).arg(b).arg(cand.reason));
                continue;
            }
            // 2. the same point elsewhere in the text (a Lat:/Lon: line and a link): merge.
            int dup = -1;
            for (int i = 0; i < found.size() && dup < 0; ++i)
                if (samePoint(found[i].pos.position, cand.pos.position) && sameTextTime(found[i], cand))
                    dup = i;
            if (dup >= 0) {
                mergeInto(found[dup], cand);
                claims.append({b, e, dup});
                continue;
            }
            found.append(cand);
            claims.append({b, e, int(found.size() - 1)});
        }
    }
    std::stable_sort(found.begin(), found.end(), [](const Candidate &a, const Candidate &b) { return a.offset < b.offset; });
    QList<SmsPosition> out;
    out.reserve(found.size());
    for (const Candidate &c : found)
        out.append(c.pos);
    return out;
}

QList<FormatInfo> formats() {
    QList<FormatInfo> list;
    for (const Format &f : kFormats)
        list.append({QString::fromLatin1(f.id), QString::fromUtf8(f.name), QString::fromUtf8(f.evidence)});
    return list;
}

QString formatName(const QString &id) {
    for (const Format &f : kFormats)
        if (id == QLatin1String(f.id))
            return QString::fromUtf8(f.name);
    return {};
}

QJsonObject smsPositionToJson(const SmsPosition &p) {
    QJsonObject o = positionToJson(p.position);
    o.insert(QStringLiteral("format"), p.format);
    o.insert(QStringLiteral("format_name"), formatName(p.format));
    o.insert(QStringLiteral("offset"), p.offset);
    o.insert(QStringLiteral("length"), p.length);
    o.insert(QStringLiteral("time_valid"), p.position.timeValid);
    o.insert(QStringLiteral("time_source"), timeSourceName(p.timeSource));
    if (p.deviceLocalTime)
        o.insert(QStringLiteral("device_local_time"), true);
    if (p.checksumOk)
        o.insert(QStringLiteral("checksum_ok"), *p.checksumOk);
    if (!p.note.isEmpty())
        o.insert(QStringLiteral("note"), p.note);
    return o;
}

} // namespace td::proto::sms
