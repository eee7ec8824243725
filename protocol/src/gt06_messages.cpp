// GT06 family: the message catalogues (one table per dialect and direction) and the
// content decoders, Wireshark style: each decoder declares its fields with offset and
// length, fills the typed Message, and never reads past the content end.
// Layouts follow the fact sheet (shared/reference/gt06/facts.md, sections 3-7).
// Concatenation chains build one string instead of a temporary per "+" (hot path).
#define QT_USE_QSTRINGBUILDER
#include "gt06_p.h"
#include "textline_p.h"

#include <QDate>
#include <QTime>
#include <QTimeZone>

#include <array>
#include <cmath>

namespace td::proto::gt06 {
namespace detail {

using namespace Qt::StringLiterals;

// ---------------------------------------------------------------------------------
// Cursor
// ---------------------------------------------------------------------------------

Field &Cursor::addField(int len, QString name, QString value) {
    pos += len;
    f->fields.append(makeField(pos - len, len, std::move(name), std::move(value)));
    return f->fields.last();
}

void Cursor::append(Field &&field) {
    if (annotate)
        f->fields.append(std::move(field));
}

void Cursor::warn(Field &field, const QString &warning) {
    field.warning = warning;
    f->warnings.append(field.name + QLatin1String(": ") + warning);
}

void Cursor::rest(const QString &name) {
    const int n = remaining();
    if (n <= 0)
        return;
    if (!annotate) {
        pos += n;
        return;
    }
    QString v = hexBytes(d + pos, std::min(n, 48));
    if (n > 48)
        v += QStringLiteral(" …");
    v += QLatin1String(" (") + QString::number(n) + (n == 1 ? QLatin1String(" byte)") : QLatin1String(" bytes)"));
    add(n, name, v);
}

void Cursor::tooShort(const QString &what) {
    truncated = true;
    const int n = remaining();
    const QString w = QLatin1String("content too short for ") + what + QLatin1String(" (") + QString::number(n)
                      + QLatin1String(" bytes left)");
    if (n > 0) {
        Field &fl = add(n, QStringLiteral("Undecoded"), annotate ? hexBytes(d + pos, std::min(n, 48)) : QString());
        warn(fl, w);
    } else {
        f->warnings.append(w);
    }
}

// ---------------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------------

static const char kHex[] = "0123456789ABCDEF";

QString hexByte(int v) {
    const char s[4] = {'0', 'x', kHex[(v >> 4) & 15], kHex[v & 15]};
    return QString::fromLatin1(s, 4);
}

QString hexWord(int v) {
    const char s[6] = {'0', 'x', kHex[(v >> 12) & 15], kHex[(v >> 8) & 15], kHex[(v >> 4) & 15], kHex[v & 15]};
    return QString::fromLatin1(s, 6);
}

QString hexBytes(const uchar *d, int n) {
    if (n <= 0)
        return {};
    QString s(n * 3 - 1, Qt::Uninitialized);
    QChar *o = s.data();
    for (int i = 0; i < n; ++i) {
        if (i)
            *o++ = QLatin1Char(' ');
        *o++ = QLatin1Char(kHex[d[i] >> 4]);
        *o++ = QLatin1Char(kHex[d[i] & 15]);
    }
    return s;
}

QString bcdDigits(const uchar *d, int n, bool *ok) {
    QString s(n * 2, Qt::Uninitialized);
    QChar *o = s.data();
    bool good = true;
    for (int i = 0; i < n; ++i) {
        const int hi = d[i] >> 4, lo = d[i] & 15;
        good = good && hi <= 9 && lo <= 9;
        *o++ = QLatin1Char(kHex[hi]);
        *o++ = QLatin1Char(kHex[lo]);
    }
    if (ok)
        *ok = good;
    return s;
}

// ---------------------------------------------------------------------------------
// Times
// ---------------------------------------------------------------------------------

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
constexpr qint64 daysFromCivil(int y, int m, int d) {
    y -= m <= 2;
    const int era = (y >= 0 ? y : y - 399) / 400;
    const int yoe = y - era * 400;
    const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return qint64(era) * 146097 + doe - 719468;
}
static_assert(daysFromCivil(1970, 1, 1) == 0 && daysFromCivil(2000, 3, 1) == 11017, "days_from_civil");

constexpr bool isLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int daysInMonth(int y, int m) {
    static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && isLeap(y) ? 29 : kDays[m - 1];
}

} // namespace

std::optional<qint64> utcMs(int year, int month, int day, int hour, int minute, int second) {
    if (year == 0 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour < 0 || hour > 23
        || minute < 0 || minute > 59 || second < 0 || second > 59)
        return std::nullopt;
    return (daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second) * 1000;
}

QDateTime utcDateTime(qint64 ms) {
    // Copying a UTC QDateTime and setting its instant skips the time-zone set-up that
    // QDateTime::fromMSecsSinceEpoch(ms, QTimeZone::UTC) goes through every time.
    static const QDateTime epoch = QDateTime::fromMSecsSinceEpoch(0, QTimeZone::UTC);
    QDateTime t = epoch;
    t.setMSecsSinceEpoch(ms);
    return t;
}

void civilFromMs(qint64 ms, int out[6]) {
    qint64 secs = ms / 1000;
    if (ms % 1000 < 0)
        --secs;
    qint64 z = secs / 86400;
    qint64 sod = secs % 86400;
    if (sod < 0) {
        sod += 86400;
        --z;
    }
    z += 719468;   // H. Hinnant's civil_from_days
    const qint64 era = (z >= 0 ? z : z - 146096) / 146097;
    const qint64 doe = z - era * 146097;
    const qint64 yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const qint64 doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const qint64 mp = (5 * doy + 2) / 153;
    const int d = int(doy - (153 * mp + 2) / 5 + 1);
    const int m = int(mp < 10 ? mp + 3 : mp - 9);
    out[0] = int(yoe + era * 400 + (m <= 2 ? 1 : 0));
    out[1] = m;
    out[2] = d;
    out[3] = int(sod / 3600);
    out[4] = int(sod / 60 % 60);
    out[5] = int(sod % 60);
}

namespace {

inline void put2(char *&o, int v) { *o++ = char('0' + (v / 10) % 10); *o++ = char('0' + v % 10); }

// "2015-12-29 02:51:05"
QString fmtDateTime(int y, int mo, int d, int h, int mi, int s) {
    char b[20];
    char *o = b;
    put2(o, y / 100);
    put2(o, y % 100);
    *o++ = '-';
    put2(o, mo);
    *o++ = '-';
    put2(o, d);
    *o++ = ' ';
    put2(o, h);
    *o++ = ':';
    put2(o, mi);
    *o++ = ':';
    put2(o, s);
    return QString::fromLatin1(b, int(o - b));
}

QString fmtDateTime(const QDateTime &t) {
    const QDate d = t.date();
    const QTime tm = t.time();
    return fmtDateTime(d.year(), d.month(), d.day(), tm.hour(), tm.minute(), tm.second());
}

QString fmtOffset(int minutes) {
    const int a = std::abs(minutes);
    char b[10];
    char *o = b;
    *o++ = 'U'; *o++ = 'T'; *o++ = 'C';
    *o++ = minutes < 0 ? '-' : '+';
    put2(o, a / 60);
    *o++ = ':';
    put2(o, a % 60);
    return QString::fromLatin1(b, int(o - b));
}

using textline::fmtFixed;

QString num(qint64 v) { return QString::number(v); }

QString printable(const uchar *d, int n) {
    if (n <= 0)
        return {};
    QString s(n, Qt::Uninitialized);
    QChar *o = s.data();
    for (int i = 0; i < n; ++i) {
        const uchar ch = d[i];
        if (ch >= 0x20 && ch < 0x7F)
            *o++ = QLatin1Char(char(ch));
        else if (ch != 0)
            *o++ = QChar(0xB7);   // middle dot for control/binary bytes
    }
    s.truncate(o - s.constData());
    return s;
}

// "aa:bb:cc:dd:ee:ff" from 6 bytes.
QString bssidText(const uchar *m) {
    static const char kLowerHex[] = "0123456789abcdef";
    QString s(17, Qt::Uninitialized);
    QChar *o = s.data();
    for (int i = 0; i < 6; ++i) {
        if (i)
            *o++ = QLatin1Char(':');
        *o++ = QLatin1Char(kLowerHex[m[i] >> 4]);
        *o++ = QLatin1Char(kLowerHex[m[i] & 15]);
    }
    return s;
}

// ---------------------------------------------------------------------------------
// Alarm codes
// ---------------------------------------------------------------------------------

struct AlarmCode {
    int code;
    QStringView name;   // machine name (Traccar's)
};

// Fact sheet section 7, Traccar's decodeAlarm column (default models).
constexpr AlarmCode kAlarms[] = {
    {0x01, u"sos"},          {0x02, u"powerCut"},        {0x03, u"vibration"},     {0x04, u"geofenceEnter"},
    {0x05, u"geofenceExit"}, {0x06, u"overspeed"},       {0x09, u"vibration"},     {0x0C, u"tampering"},
    {0x0E, u"lowBattery"},   {0x0F, u"lowBattery"},      {0x11, u"powerOff"},      {0x13, u"tampering"},
    {0x14, u"door"},         {0x18, u"removing"},        {0x19, u"lowBattery"},    {0x23, u"fallDown"},
    {0x25, u"tampering"},    {0x26, u"hardAcceleration"}, {0x27, u"hardBraking"},  {0x28, u"hardBraking"},
    {0x29, u"hardAcceleration"}, {0x2A, u"hardCornering"}, {0x2B, u"hardCornering"}, {0x2C, u"accident"},
    {0x2E, u"hardCornering"}, {0x30, u"jamming"},        {0x32, u"tampering"},     {0x33, u"lock"},
    {0x34, u"unlock"},       {0x53, u"fuelLeak"},        {0x5B, u"temperature"},   {0x5C, u"temperature"},
    {0xC9, u"idle"},         {0xF0, u"hardAcceleration"}, {0xF1, u"hardBraking"},  {0xF2, u"accident"},
    {0x107, u"jamming"},     {0x10B, u"jamming"},
};

// The VL03 meaning of each code, for the field tree.
const char *alarmDescription(int code) {
    switch (code) {
    case 0x00: return "normal";
    case 0x01: return "SOS";
    case 0x02: return "power cut";
    case 0x03: return "vibration";
    case 0x04: return "enter fence";
    case 0x05: return "exit fence";
    case 0x06: return "overspeed";
    case 0x09: return "tow / displacement";
    case 0x0A: return "enter GPS blind area";
    case 0x0B: return "exit GPS blind area";
    case 0x0C: return "power on";
    case 0x0D: return "first GPS fix";
    case 0x0E: return "low external battery";
    case 0x0F: return "external low-voltage protection";
    case 0x10: return "SIM changed";
    case 0x11: return "power off";
    case 0x12: return "airplane mode after low voltage";
    case 0x13: return "tamper / disassembly";
    case 0x14: return "door";
    case 0x15: return "shutdown on low battery";
    case 0x16: return "sound alarm";
    case 0x17: return "fake base station";
    case 0x18: return "cover opened";
    case 0x19: return "internal battery low";
    case 0x20: return "deep sleep";
    case 0x23: return "fall";
    case 0x29: return "harsh acceleration";
    case 0x2A: return "sharp left turn";
    case 0x2B: return "sharp right turn";
    case 0x2C: return "collision";
    case 0x30: return "harsh braking";
    case 0x32: return "device unplugged";
    case 0xFE: return "ACC on";
    case 0xFF: return "ACC off";
    default: return nullptr;
    }
}

bool isVlModel(const QString &m) {
    return m.startsWith(QLatin1String("VL"), Qt::CaseInsensitive) || m.compare(QLatin1String("G18"), Qt::CaseInsensitive) == 0
           || m.compare(QLatin1String("LL303"), Qt::CaseInsensitive) == 0;
}

// ---------------------------------------------------------------------------------
// Small field builders
// ---------------------------------------------------------------------------------

void addAlarm(Message &m, const QString &name) {
    if (name.isEmpty() || (!m.alarms.isEmpty() && m.alarms.contains(name)))
        return;
    if (m.alarms.isEmpty())
        m.alarms.reserve(2);   // one allocation for the usual one or two alarms
    m.alarms.append(name);
}

Status &status(Cursor &c) {
    if (!c.msg().status)
        c.msg().status = Status{};
    return *c.msg().status;
}

std::optional<int> timeZoneFor(const Cursor &c) {
    if (c.ctx && c.ctx->options && c.ctx->options->timeZoneMinutes)
        return c.ctx->options->timeZoneMinutes;
    if (c.localTime && c.ctx && c.ctx->loginTz)
        return c.ctx->loginTz;
    return std::nullopt;
}

// A 6-byte date/time at `at` (binary YY MM DD hh mm ss, or BCD). Returns the field (an
// empty one when not annotating: nothing is formatted); *out receives the UTC time
// (invalid when out of range) and *valid the range check. Problems warn on the frame.
Field dateField(Cursor &c, int at, const QString &name, bool bcd, QDateTime *out, bool *valid, bool applyTz = true) {
    int v[6];
    bool bcdOk = true;
    for (int i = 0; i < 6; ++i) {
        const int b = c.d[at + i];
        if (bcd) {
            bcdOk = bcdOk && (b >> 4) <= 9 && (b & 15) <= 9;
            v[i] = (b >> 4) * 10 + (b & 15);
        } else {
            v[i] = b;
        }
    }
    const std::optional<qint64> ms = bcdOk ? utcMs(2000 + v[0], v[1], v[2], v[3], v[4], v[5]) : std::nullopt;
    const bool ok = ms.has_value();
    std::optional<int> tz;
    qint64 utc = 0;
    if (ok) {
        tz = applyTz ? timeZoneFor(c) : std::nullopt;
        utc = *ms - (tz ? qint64(*tz) * 60000 : 0);
    }
    if (out) {
        if (ok)
            *out = utcDateTime(utc);
        else
            *out = QDateTime();
    }
    if (valid)
        *valid = ok;
    if (ok && !c.annotate)
        return {};
    Field fl = makeField(at, 6, name);
    if (ok) {
        if (tz && *tz != 0) {
            int u[6];
            civilFromMs(utc, u);
            fl.value = fmtDateTime(2000 + v[0], v[1], v[2], v[3], v[4], v[5]) + QLatin1String(" device time (")
                       + fmtOffset(*tz) + QLatin1String(") = ") + fmtDateTime(u[0], u[1], u[2], u[3], u[4], u[5])
                       + QLatin1String(" UTC");
        } else {
            fl.value = fmtDateTime(2000 + v[0], v[1], v[2], v[3], v[4], v[5]) + QLatin1String(" UTC");
        }
        if (bcd)
            fl.value += QLatin1String(" (BCD)");
    } else {
        if (c.annotate)
            fl.value = hexBytes(c.d + at, 6);
        fl.warning = bcd && !bcdOk ? QStringLiteral("out-of-range date: not BCD")
                                   : QStringLiteral("out-of-range date/time");
        c.f->warnings.append(name + QLatin1String(": ") + fl.warning);
    }
    return fl;
}

QString coordinateText(double deg, bool negative, bool latitude) {
    return fmtFixed(deg, 6) + QChar(0xB0) + QLatin1Char(' ')
           + QLatin1Char(latitude ? (negative ? 'S' : 'N') : (negative ? 'W' : 'E'));
}

// GPS info byte + lat + lon + speed + course/status (12 bytes) at `at`, as children of `parent`.
void gpsBody(Cursor &c, int at, Field &parent, Position &p, bool hasInfo = true, bool speedWord = false) {
    int o = at;
    if (hasInfo) {
        const int info = c.d[o];
        if (c.annotate) {
            Field fi = makeField(o, 1, QStringLiteral("GPS info"), hexByte(info));
            fi.add(makeField(o, 1, QStringLiteral("GPS data length"), QString::number(info >> 4)));
            fi.add(makeField(o, 1, QStringLiteral("Satellites"), QString::number(info & 15)));
            parent.add(std::move(fi));
        }
        p.satellites = info & 15;
        ++o;
    }
    const quint32 rawLat = c.u32(o);
    const quint32 rawLon = c.u32(o + 4);
    const int latAt = o, lonAt = o + 4;
    o += 8;
    int speed;
    int speedLen = speedWord ? 2 : 1;
    const int speedAt = o;
    speed = speedWord ? c.u16(o) : c.d[o];
    o += speedLen;
    const quint16 cw = c.u16(o);
    const bool north = cw & (1 << 10);
    const bool west = cw & (1 << 11);
    const bool valid = cw & (1 << 12);
    p.latitude = rawLat / 1800000.0 * (north ? 1 : -1);
    p.longitude = rawLon / 1800000.0 * (west ? -1 : 1);
    p.valid = valid;
    p.speedKmh = speed;
    p.course = cw & 0x3FF;
    p.hasCoordinates = true;
    p.source = PositionSource::Gps;

    if (!c.annotate) {
        if (rawLat > 162000000u)
            c.f->warnings.append(QStringLiteral("Latitude: latitude out of range"));
        if (rawLon > 324000000u)
            c.f->warnings.append(QStringLiteral("Longitude: longitude out of range"));
        if (cw & (1 << 14))
            status(c).acc = (cw & (1 << 15)) != 0;
        return;
    }
    Field lat = makeField(latAt, 4, QStringLiteral("Latitude"), coordinateText(rawLat / 1800000.0, !north, true));
    if (rawLat > 162000000u) {
        lat.warning = QStringLiteral("latitude out of range");
        c.f->warnings.append(QStringLiteral("Latitude: latitude out of range"));
    }
    parent.add(std::move(lat));
    Field lon = makeField(lonAt, 4, QStringLiteral("Longitude"), coordinateText(rawLon / 1800000.0, west, false));
    if (rawLon > 324000000u) {
        lon.warning = QStringLiteral("longitude out of range");
        c.f->warnings.append(QStringLiteral("Longitude: longitude out of range"));
    }
    parent.add(std::move(lon));
    parent.add(makeField(speedAt, speedLen, QStringLiteral("Speed"), QString::number(speed) + QLatin1String(" km/h")));
    Field cf = makeField(o, 2, QStringLiteral("Course/status"), hexWord(cw));
    cf.children.reserve(6);
    cf.add(makeField(o, 2, QStringLiteral("Course"), QString::number(cw & 0x3FF) + QChar(0xB0)));
    cf.add(makeField(o, 1, QStringLiteral("Latitude hemisphere"),
                     north ? QStringLiteral("north (bit 10 = 1)") : QStringLiteral("south (bit 10 = 0)")));
    cf.add(makeField(o, 1, QStringLiteral("Longitude hemisphere"),
                     west ? QStringLiteral("west (bit 11 = 1)") : QStringLiteral("east (bit 11 = 0)")));
    cf.add(makeField(o, 1, QStringLiteral("GPS fix"),
                     valid ? QStringLiteral("valid (bit 12 = 1)") : QStringLiteral("not valid (bit 12 = 0)")));
    cf.add(makeField(o, 1, QStringLiteral("Real-time/differential"), QString::number((cw >> 13) & 1) + QLatin1String(" (bit 13)")));
    if (cw & (1 << 14)) {
        const bool acc = cw & (1 << 15);
        cf.add(makeField(o, 1, QStringLiteral("ACC"), acc ? QStringLiteral("on (bits 14-15)") : QStringLiteral("off (bits 14-15)")));
        status(c).acc = acc;
    }
    parent.add(std::move(cf));
}

// The standard 18-byte GPS block. Returns false (and marks truncation) if it does not fit.
bool gpsBlock(Cursor &c, Position &p, const QString &name = QStringLiteral("GPS")) {
    if (!c.has(18)) {
        c.tooShort(QStringLiteral("the 18-byte GPS block"));
        return false;
    }
    bool ok = false;
    Field date = dateField(c, c.pos, QStringLiteral("Date/time"), false, &p.time, &ok);
    p.timeValid = ok;
    if (!c.annotate) {
        gpsBody(c, c.pos + 6, c.scratch, p);   // the parent is not touched when not annotating
        c.pos += 18;
        return true;
    }
    Field g = makeField(c.pos, 18, name);
    g.children.reserve(6);
    g.children.append(std::move(date));
    gpsBody(c, c.pos + 6, g, p);
    g.value = p.valid ? QStringLiteral("valid fix") : QStringLiteral("no valid fix");
    c.append(std::move(g));
    c.pos += 18;
    return true;
}

enum class CellForm { G2, G2Ci4, G4 };

// MCC + MNC + LAC + CI. MNC takes 2 bytes when MCC bit 15 is set (or forced).
bool lbsBlock(Cursor &c, Position &p, CellForm form, bool mnc2Forced = false, const QString &name = QStringLiteral("LBS")) {
    if (!c.has(2)) {
        c.tooShort(name);
        return false;
    }
    const quint16 mccRaw = c.u16(c.pos);
    const bool mnc2 = mnc2Forced || (mccRaw & 0x8000);
    const int lacLen = form == CellForm::G4 ? 4 : 2;
    const int ciLen = form == CellForm::G4 ? 8 : form == CellForm::G2Ci4 ? 4 : 3;
    const int size = 2 + (mnc2 ? 2 : 1) + lacLen + ciLen;
    if (!c.has(size)) {
        c.tooShort(name);
        return false;
    }
    int o = c.pos;
    CellTower cell;
    cell.mcc = mccRaw & 0x7FFF;
    cell.mnc = mnc2 ? c.u16(o + 2) : c.d[o + 2];
    cell.lac = qint64(c.uN(o + 2 + (mnc2 ? 2 : 1), lacLen));
    cell.cellId = qint64(c.uN(o + 2 + (mnc2 ? 2 : 1) + lacLen, ciLen) & 0x7FFFFFFFFFFFFFFFull);
    if (c.annotate) {
        Field g = makeField(o, size, name);
        g.children.reserve(4);
        g.add(makeField(o, 2, QStringLiteral("MCC"),
                        QString::number(cell.mcc) + ((mccRaw & 0x8000) ? QLatin1String(" (bit 15: 2-byte MNC)") : QLatin1String(""))));
        o += 2;
        g.add(makeField(o, mnc2 ? 2 : 1, QStringLiteral("MNC"), QString::number(cell.mnc)));
        o += mnc2 ? 2 : 1;
        g.add(makeField(o, lacLen, QStringLiteral("LAC"), QString::number(cell.lac)));
        o += lacLen;
        g.add(makeField(o, ciLen, QStringLiteral("Cell ID"), QString::number(cell.cellId)));
        g.value = QLatin1String("MCC ") + num(cell.mcc) + QLatin1String(" MNC ") + num(cell.mnc) + QLatin1String(" LAC ")
                  + num(cell.lac) + QLatin1String(" CI ") + num(cell.cellId);
        c.append(std::move(g));
    }
    c.pos += size;
    if (cell.mcc || cell.lac || cell.cellId)
        p.cells.append(cell);
    return true;
}

// LBS preceded by its length byte (alarm messages). `tail` = bytes that must remain after.
void lbsWithLength(Cursor &c, Position &p, CellForm form, int tail) {
    if (!c.has(1)) {
        c.tooShort(QStringLiteral("the LBS length"));
        return;
    }
    const int len = c.d[c.pos];
    if (len == 0) {
        c.add(1, QStringLiteral("LBS length"), QStringLiteral("0 (no cell data)"));
        // Traccar: a zero length followed by 45 zeroed bytes is a padded empty block.
        bool zero = c.has(45);
        for (int i = c.pos + 9; zero && i < c.pos + 45; ++i)
            zero = c.d[i] == 0;
        if (zero && c.remaining() - 45 >= tail)
            c.add(45, QStringLiteral("LBS (empty)"), QStringLiteral("45 zero bytes of padding"));
        return;
    }
    c.add(1, QStringLiteral("LBS length"), [&]() -> QString { return QString::number(len); });
    const int before = c.pos;
    if (!lbsBlock(c, p, form))
        return;
    const int data = c.pos - before;
    const int extra = len - 1 - data;   // the length counts itself on most devices
    if (extra > 0 && c.remaining() - extra >= tail)
        c.add(extra, QStringLiteral("LBS extra"), [&]() -> QString { return hexBytes(c.d + c.pos, std::min(extra, 32)); });
}

// Terminal-information byte (fact sheet 3.4).
void terminalInfo(Cursor &c, const QString &model) {
    const int ti = c.d[c.pos];
    Status &s = status(c);
    s.armed = ti & 0x01;
    s.acc = (ti & 0x02) != 0;
    s.charging = (ti & 0x04) != 0;
    s.gpsTracking = (ti & 0x40) != 0;
    s.relayCut = (ti & 0x80) != 0;
    const int alarm = (ti >> 3) & 7;
    static const char *const kTiAlarm[] = {"normal", "shock", "power cut", "low battery", "SOS", "5 (unknown)", "geofence", "removing"};
    if (c.annotate) {
        Field fl = makeField(c.pos, 1, QStringLiteral("Terminal information"), hexByte(ti));
        fl.children.reserve(6);
        fl.add(makeField(c.pos, 1, QStringLiteral("Defence (armed)"), (ti & 0x01) ? QStringLiteral("on (bit 0)") : QStringLiteral("off (bit 0)")));
        fl.add(makeField(c.pos, 1, QStringLiteral("ACC"), (ti & 0x02) ? QStringLiteral("high (bit 1)") : QStringLiteral("low (bit 1)")));
        fl.add(makeField(c.pos, 1, QStringLiteral("Charging"), (ti & 0x04) ? QStringLiteral("yes (bit 2)") : QStringLiteral("no (bit 2)")));
        fl.add(makeField(c.pos, 1, QStringLiteral("Alarm"), QString::fromLatin1(kTiAlarm[alarm]) + QLatin1String(" (bits 3-5 = ") + QString::number(alarm) + QLatin1Char(')')));
        fl.add(makeField(c.pos, 1, QStringLiteral("GPS tracking"), (ti & 0x40) ? QStringLiteral("on (bit 6)") : QStringLiteral("off (bit 6)")));
        fl.add(makeField(c.pos, 1, QStringLiteral("Oil/electricity"), (ti & 0x80) ? QStringLiteral("cut (bit 7)") : QStringLiteral("connected (bit 7)")));
        c.append(std::move(fl));
    }
    ++c.pos;
    switch (alarm) {
    case 1: addAlarm(c.msg(), QStringLiteral("vibration")); break;
    case 2: addAlarm(c.msg(), QStringLiteral("powerCut")); break;
    case 3: addAlarm(c.msg(), QStringLiteral("lowBattery")); break;
    case 4: addAlarm(c.msg(), QStringLiteral("sos")); break;
    case 6: addAlarm(c.msg(), QStringLiteral("geofence")); break;
    case 7: addAlarm(c.msg(), model.compare(QLatin1String("VXT01"), Qt::CaseInsensitive) == 0 ? QStringLiteral("overspeed") : QStringLiteral("removing")); break;
    default: break;
    }
}

void voltageLevel(Cursor &c) {
    static const char *const kLevels[] = {"no power", "extremely low", "very low", "low", "medium", "high", "very high"};
    const int v = c.d[c.pos];
    Status &s = status(c);
    QString text;
    if (v <= 6) {
        s.batteryPercent = v * 100 / 6;
        if (c.annotate)
            text = QString::number(v) + QLatin1String(" = ") + QLatin1String(kLevels[v]) + QLatin1String(" (")
               + QString::number(v * 100 / 6) + QLatin1String(" %)");
    } else if (v <= 100) {
        s.batteryPercent = v;
        if (c.annotate)
            text = QString::number(v) + QLatin1String(" %");
    } else if (c.annotate) {
        text = QString::number(v) + QLatin1String(" (unknown scale)");
    }
    c.add(1, QStringLiteral("Voltage level"), text);
}

void gsmSignal(Cursor &c) {
    static const char *const kGsm[] = {"no signal", "extremely weak", "very weak", "good", "strong"};
    const int v = c.d[c.pos];
    status(c).gsmSignal = v;
    c.add(1, QStringLiteral("GSM signal"), [&]() -> QString { return v <= 4 ? QString::number(v) + QLatin1String(" = ") + QLatin1String(kGsm[v]) : QString::number(v); });
}

// Alarm byte (+ language byte when present).
void alarmLanguage(Cursor &c, bool extended) {
    const QString model = c.model();
    int code = c.d[c.pos];
    const bool hasLang = c.has(2);
    const int lang = hasLang ? c.d[c.pos + 1] : -1;
    if (extended && hasLang && (lang & 0xF0))
        code |= (lang & 0x0F0) << 4;   // Traccar: high nibble of the language as bits 8-11
    const QString name = alarmName(code, model);
    addAlarm(c.msg(), name);
    if (code == 0xFE)
        status(c).acc = true;
    else if (code == 0xFF)
        status(c).acc = false;
    if (!c.annotate) {
        c.pos += hasLang ? 2 : 1;
        return;
    }
    const char *desc = alarmDescription(code & 0xFF);
    QString text = hexByte(code & 0xFF);
    if (desc)
        text += QLatin1String(" = ") + QLatin1String(desc);
    if (!name.isEmpty())
        text += QLatin1String(" (") + name + QLatin1Char(')');
    if (!hasLang) {
        c.add(1, QStringLiteral("Alarm"), text);
        return;
    }
    Field fl = makeField(c.pos, 2, QStringLiteral("Alarm/language"), hexWord(c.u16(c.pos)));
    fl.add(makeField(c.pos, 1, QStringLiteral("Alarm"), text));
    QString l;
    switch (lang & 0x0F) {
    case 0: l = QStringLiteral("0x00 (no platform reply needed)"); break;
    case 1: l = QStringLiteral("0x01 Chinese"); break;
    case 2: l = QStringLiteral("0x02 English"); break;
    default: l = hexByte(lang); break;
    }
    fl.add(makeField(c.pos + 1, 1, QStringLiteral("Language"), l));
    c.append(std::move(fl));
    c.pos += 2;
}

// TI + voltage level + GSM + alarm + language (5 bytes; shorter forms take what is there).
void statusBlock(Cursor &c, bool extendedAlarm = false) {
    const QString model = c.model();
    if (c.has(1))
        terminalInfo(c, model);
    if (c.has(1))
        voltageLevel(c);
    if (c.has(1))
        gsmSignal(c);
    if (c.has(1))
        alarmLanguage(c, extendedAlarm);
}

void accUploadReupload(Cursor &c) {
    if (c.has(1)) {
        const int acc = c.d[c.pos];
        status(c).acc = acc != 0;
        c.add(1, QStringLiteral("ACC"), [&]() -> QString { return acc ? QStringLiteral("on") : QStringLiteral("off"); });
    }
    if (c.has(1)) {
        static const char *const kModes[] = {"interval", "distance", "cornering", "ACC change", "last fix after stopping",
                                             "re-upload after network recovery", "ephemeris refresh", "key press",
                                             "power on", "9", "static", "Wi-Fi derived", "LJDW command", "static",
                                             "GPSDUP", "exit tracking"};
        const int m = c.d[c.pos];
        c.add(1, QStringLiteral("Upload mode"), [&]() -> QString { return hexByte(m) + (m < 16 ? QLatin1String(" = ") + QLatin1String(kModes[m]) : QString()); });
    }
    if (c.has(1)) {
        const int r = c.d[c.pos];
        c.add(1, QStringLiteral("Re-upload"), [&]() -> QString { return r == 0 ? QStringLiteral("0 = real time") : QString::number(r) + QLatin1String(" = buffered/history"); });
    }
}

void mileage(Cursor &c) {
    const quint32 m = c.u32(c.pos);
    c.add(4, QStringLiteral("Mileage"), [&]() -> QString { return QString::number(m) + QLatin1String(" m"); });
}

void appendPosition(Cursor &c, Position &&p) { c.msg().positions.append(std::move(p)); }

bool looksLikeImeiAndDate(const Cursor &c, int at) {
    if (!c.has(at - c.pos + 8 + 6))
        return false;
    if ((c.d[at] >> 4) != 0)
        return false;
    for (int i = 0; i < 8; ++i)
        if ((c.d[at + i] >> 4) > 9 || (c.d[at + i] & 15) > 9)
            return false;
    const uchar *t = c.d + at + 8;
    return t[1] >= 1 && t[1] <= 12 && t[2] >= 1 && t[2] <= 31 && t[3] < 24 && t[4] < 60 && t[5] < 60;
}

// The 16 BCD nibbles of an 8-byte terminal ID without the leading 0 nibble (15 digits).
QString imeiFromBcd(const uchar *d, bool *ok) {
    const bool lead = (d[0] >> 4) == 0;
    QString s(lead ? 15 : 16, Qt::Uninitialized);
    QChar *o = s.data();
    bool good = true;
    for (int i = 0; i < 16; ++i) {
        const int nibble = i % 2 ? d[i / 2] & 15 : d[i / 2] >> 4;
        good = good && nibble <= 9;
        if (i > 0 || !lead)
            *o++ = QLatin1Char(kHex[nibble]);
    }
    if (ok)
        *ok = good;
    return s;
}

void imeiField(Cursor &c, const QString &name = QStringLiteral("IMEI")) {
    bool ok = false;
    const QString imei = imeiFromBcd(c.d + c.pos, &ok);
    Field &fl = c.add(8, name, imei);
    if (!ok)
        c.warn(fl, QStringLiteral("not BCD digits"));
    if (c.msg().deviceId.isEmpty() && ok)
        c.msg().deviceId = imei;
}

// ---------------------------------------------------------------------------------
// Standard dialect: message decoders
// ---------------------------------------------------------------------------------

void decLogin(Cursor &c) {
    if (!c.has(8)) {
        c.tooShort(QStringLiteral("the 8-byte terminal ID"));
        return;
    }
    bool ok = false;
    const QString imei = imeiFromBcd(c.d + c.pos, &ok);
    Field &fl = c.add(8, QStringLiteral("Terminal ID (IMEI)"), imei);
    if (!ok)
        c.warn(fl, QStringLiteral("terminal ID is not BCD"));
    c.msg().deviceId = imei;
    if (c.has(2)) {
        const int id = c.u16(c.pos);
        c.msg().model = hexWord(id);
        c.add(2, QStringLiteral("Type ID"), [&]() -> QString { return hexWord(id); });
    }
    if (c.has(2)) {
        const quint16 w = c.u16(c.pos);
        const int minutes = timeZoneMinutes(w);
        c.msg().timeZoneMinutes = minutes;
        if (c.annotate) {
            Field tz = makeField(c.pos, 2, QStringLiteral("Time zone/language"), fmtOffset(minutes));
            tz.add(makeField(c.pos, 2, QStringLiteral("Offset"), QString::number(w >> 4) + QLatin1String(" (HHMM) = ") + fmtOffset(minutes)));
            tz.add(makeField(c.pos + 1, 1, QStringLiteral("Hemisphere"), (w & 0x08) ? QStringLiteral("west (bit 3 = 1)") : QStringLiteral("east (bit 3 = 0)")));
            tz.add(makeField(c.pos + 1, 1, QStringLiteral("Language"), QString::number(w & 0x03) + QLatin1String(" (bits 0-1)")));
            c.append(std::move(tz));
        }
        c.pos += 2;
    }
}

void decStatus13(Cursor &c) {
    if (!c.has(1)) {
        c.tooShort(QStringLiteral("the terminal information"));
        return;
    }
    if (c.remaining() > 6) {   // OBD6 / LW4G / other extended heartbeats: layout per model
        terminalInfo(c, c.model());
        c.rest(QStringLiteral("Extended status (model-specific)"));
        return;
    }
    statusBlock(c);
}

void decHeartbeat23(Cursor &c) {
    if (!c.has(1)) {
        c.tooShort(QStringLiteral("the terminal information"));
        return;
    }
    terminalInfo(c, c.model());
    if (c.has(2)) {
        const int v = c.u16(c.pos);
        status(c).batteryVolts = v / 100.0;
        c.add(2, QStringLiteral("Battery voltage"), [&]() -> QString { return fmtFixed(v / 100.0, 2) + QLatin1String(" V"); });
    }
    if (c.has(1))
        gsmSignal(c);
    if (c.has(2))
        c.add(2, QStringLiteral("Language"), [&]() -> QString { return hexWord(c.u16(c.pos)); });
}

void decGps10(Cursor &c) {
    Position p;
    if (gpsBlock(c, p))
        appendPosition(c, std::move(p));
}

void decGps11(Cursor &c) {
    Position p;
    if (!gpsBlock(c, p))
        return;
    if (c.remaining() >= 10)
        lbsBlock(c, p, CellForm::G2Ci4, true);
    appendPosition(c, std::move(p));
}

void tailExtras(Cursor &c) {
    // ACC / upload mode / re-upload [+ mileage] when the rest has exactly that shape;
    // five bytes are a status block (VXT01-style 0x12, length 0x24).
    if (c.remaining() == 5) {
        statusBlock(c);
        return;
    }
    if (c.remaining() == 3 || c.remaining() == 7) {
        accUploadReupload(c);
        if (c.remaining() == 4)
            mileage(c);
    } else if (c.remaining() == 4) {
        mileage(c);
    }
}

void decGpsLbs12(Cursor &c) {
    if (looksLikeImeiAndDate(c, c.pos))
        imeiField(c);   // QH302R: IMEI before the GPS block
    Position p;
    if (!gpsBlock(c, p))
        return;
    if (c.remaining() >= 8)
        lbsBlock(c, p, CellForm::G2);
    tailExtras(c);
    appendPosition(c, std::move(p));
}

bool isNtModel(const QString &m) {
    if (m.size() < 2)
        return false;
    static const char *const kNt[] = {"NT20", "NT40", "NT50", "NT60", "XT40", "XT60", "NT", "XT"};
    for (const char *k : kNt)
        if (m.startsWith(QLatin1String(k), Qt::CaseInsensitive))
            return true;
    return false;
}

// NT/XT models: source 1 + IMEI 8 + device time 6 before the GPS block.
bool ntPrefix(Cursor &c) {
    const bool byModel = isNtModel(c.model());
    if (!byModel && !looksLikeImeiAndDate(c, c.pos + 1))
        return false;
    if (!c.has(15 + 18))
        return false;
    c.add(1, QStringLiteral("Source"), [&]() -> QString { return hexByte(c.d[c.pos]); });
    imeiField(c);
    bool ok = false;
    QDateTime t;
    c.append(dateField(c, c.pos, QStringLiteral("Device time"), false, &t, &ok));
    c.pos += 6;
    return true;
}

void decGpsLbs22(Cursor &c) {
    const bool nt = ntPrefix(c);
    Position p;
    if (!gpsBlock(c, p))
        return;
    if (c.remaining() >= 8)
        lbsBlock(c, p, CellForm::G2);
    if (!nt)
        accUploadReupload(c);
    if (c.remaining() == 4)
        mileage(c);
    appendPosition(c, std::move(p));
}

void decGpsLbs4G(Cursor &c) {
    Position p;
    if (!gpsBlock(c, p))
        return;
    if (c.remaining() >= 15)
        lbsBlock(c, p, CellForm::G4);
    accUploadReupload(c);
    if (c.remaining() == 4)
        mileage(c);
    appendPosition(c, std::move(p));
}

void finishAlarmKind(Cursor &c, MessageKind otherwise) {
    c.msg().kind = c.msg().alarms.isEmpty() ? otherwise : MessageKind::Alarm;
}

// 0x16 / 0x26 / 0x27 / 0xA4: GPS + LBS(length) + status [+ fence] [+ mileage].
void decAlarmCommon(Cursor &c, CellForm form, bool fence, bool extendedAlarm) {
    Position p;
    if (!gpsBlock(c, p))
        return;
    const int tail = 5 + (fence ? 1 : 0);
    if (c.type == 0x16 && c.remaining() == 13) {
        lbsBlock(c, p, form);   // VXT01 / older units: no LBS length byte
    } else {
        lbsWithLength(c, p, form, tail);
    }
    if (c.type == 0x16 && c.remaining() == 6) {
        // SEEWORLD-style 6-byte status: TI, ?, battery %, GSM, alarm, language.
        terminalInfo(c, c.model());
        c.add(1, QStringLiteral("Unknown"), [&]() -> QString { return hexByte(c.d[c.pos]); });
        const int b = c.d[c.pos];
        status(c).batteryPercent = std::min(b, 100);
        c.add(1, QStringLiteral("Battery"), [&]() -> QString { return QString::number(b) + QLatin1String(" %"); });
        gsmSignal(c);
        alarmLanguage(c, extendedAlarm);
    } else if (c.has(1)) {
        statusBlock(c, extendedAlarm);
    }
    if (fence && c.has(1)) {
        const int fn = c.d[c.pos];
        c.add(1, QStringLiteral("Fence number"), [&]() -> QString { return fn == 0xFF ? QStringLiteral("0xFF (none)") : QString::number(fn + 1); });
    }
    if (c.remaining() == 4)
        mileage(c);
    appendPosition(c, std::move(p));
    finishAlarmKind(c, MessageKind::Position);
}

void decAlarm16(Cursor &c) { decAlarmCommon(c, CellForm::G2, false, false); }
void decAlarm26(Cursor &c) { decAlarmCommon(c, CellForm::G2, false, false); }
void decAlarm27(Cursor &c) { decAlarmCommon(c, CellForm::G2, true, true); }
void decAlarmA4(Cursor &c) { decAlarmCommon(c, CellForm::G4, true, true); }

Position lbsPosition() {
    Position p;
    p.hasCoordinates = false;
    p.source = PositionSource::Lbs;
    p.valid = false;
    return p;
}

void decLbsStatus(Cursor &c, CellForm form) {
    Position p = lbsPosition();
    if (!lbsBlock(c, p, form))
        return;
    statusBlock(c);
    if (!p.cells.isEmpty())
        appendPosition(c, std::move(p));
    finishAlarmKind(c, MessageKind::Lbs);
}

void decLbsStatus19(Cursor &c) {
    if (c.remaining() != 13) {   // SPACE10X multi-LBS variant
        c.rest(QStringLiteral("Multi-LBS data (variant)"));
        c.msg().kind = MessageKind::Lbs;
        return;
    }
    decLbsStatus(c, CellForm::G2);
}

void decLbsAlarmA5(Cursor &c) { decLbsStatus(c, CellForm::G4); }

// Date + MCC/MNC + up to 7 cells (LAC, CI, RSSI) + TA [+ Wi-Fi list].
void decMultiCell(Cursor &c, bool g4, bool wifi) {
    Position p = lbsPosition();
    if (!c.has(6 + 3)) {
        c.tooShort(QStringLiteral("date + MCC/MNC"));
        return;
    }
    bool ok = false;
    c.append(dateField(c, c.pos, QStringLiteral("Date/time"), false, &p.time, &ok));
    p.timeValid = ok;
    c.pos += 6;
    const quint16 mccRaw = c.u16(c.pos);
    const bool mnc2 = mccRaw & 0x8000;
    const int mcc = mccRaw & 0x7FFF;
    c.add(2, QStringLiteral("MCC"), [&]() -> QString { return QString::number(mcc); });
    if (!c.has(mnc2 ? 2 : 1)) {
        c.tooShort(QStringLiteral("MNC"));
        return;
    }
    const int mnc = mnc2 ? c.u16(c.pos) : c.d[c.pos];
    c.add(mnc2 ? 2 : 1, QStringLiteral("MNC"), [&]() -> QString { return QString::number(mnc); });
    const int lacLen = g4 ? 4 : 2, ciLen = g4 ? 8 : 3;
    const int cellSize = lacLen + ciLen + 1;
    p.cells.reserve(std::min(7, c.remaining() / cellSize));
    for (int i = 0; i < 7 && c.remaining() >= cellSize; ++i) {
        CellTower cell;
        cell.mcc = mcc;
        cell.mnc = mnc;
        cell.lac = qint64(c.uN(c.pos, lacLen));
        cell.cellId = qint64(c.uN(c.pos + lacLen, ciLen) & 0x7FFFFFFFFFFFFFFFull);
        cell.signal = c.d[c.pos + lacLen + ciLen];
        const bool empty = cell.lac == 0 && cell.cellId == 0;
        if (c.annotate) {
            Field g = makeField(c.pos, cellSize, QLatin1String("Cell ") + num(i + 1));
            g.children.reserve(3);
            g.add(makeField(c.pos, lacLen, QStringLiteral("LAC"), QString::number(cell.lac)));
            g.add(makeField(c.pos + lacLen, ciLen, QStringLiteral("Cell ID"), QString::number(cell.cellId)));
            g.add(makeField(c.pos + lacLen + ciLen, 1, QStringLiteral("RSSI"), QString::number(cell.signal)));
            g.value = empty ? QStringLiteral("(empty)") : QLatin1String("LAC ") + num(cell.lac) + QLatin1String(" CI ") + num(cell.cellId) + QLatin1String(" RSSI ") + num(cell.signal);
            c.append(std::move(g));
        }
        c.pos += cellSize;
        if (!empty)
            p.cells.append(cell);
    }
    if (c.has(1))
        c.add(1, QStringLiteral("Timing advance"), [&]() -> QString { return QString::number(c.d[c.pos]); });
    if (wifi && c.has(1)) {
        const int count = c.d[c.pos];
        c.add(1, QStringLiteral("Wi-Fi count"), [&]() -> QString { return QString::number(count); });
        p.wifi.reserve(std::min(count, c.remaining() / 7));
        for (int i = 0; i < count && c.has(7); ++i) {
            WifiAccessPoint ap;
            const uchar *m = c.d + c.pos;
            ap.bssid = bssidText(m);
            ap.rssi = -int(m[6]);
            if (c.annotate) {
                Field g = makeField(c.pos, 7, QLatin1String("Wi-Fi ") + num(i + 1), ap.bssid + QLatin1String(" ") + QString::number(ap.rssi) + QLatin1String(" dBm"));
                g.add(makeField(c.pos, 6, QStringLiteral("BSSID"), ap.bssid));
                g.add(makeField(c.pos + 6, 1, QStringLiteral("RSSI"), QString::number(ap.rssi) + QLatin1String(" dBm")));
                c.append(std::move(g));
            }
            c.pos += 7;
            p.wifi.append(std::move(ap));
        }
        if (!p.wifi.isEmpty())
            p.source = PositionSource::Wifi;
    } else if (c.remaining() == 2) {
        c.add(2, QStringLiteral("Language"), [&]() -> QString { return hexWord(c.u16(c.pos)); });
    }
    if (!p.cells.isEmpty() || !p.wifi.isEmpty())
        appendPosition(c, std::move(p));
}

void decLbsExtend(Cursor &c) { decMultiCell(c, false, false); }
void decLbsMulti4G(Cursor &c) { decMultiCell(c, true, false); }
void decLbsWifi2C(Cursor &c) { decMultiCell(c, false, true); }

void decA2(Cursor &c) {
    if (c.lengthField == 0x40) {   // LW4G: GPS + status variant
        Position p;
        if (gpsBlock(c, p))
            appendPosition(c, std::move(p));
        c.msg().kind = MessageKind::Position;
        return;
    }
    decMultiCell(c, true, true);
}

QString decodeText(const uchar *d, int n, bool utf16) {
    if (utf16) {
        QString s;
        s.reserve(n / 2);
        for (int i = 0; i + 1 < n; i += 2) {
            const char16_t ch = char16_t((d[i] << 8) | d[i + 1]);
            if (ch)
                s.append(QChar(ch));
        }
        return s;
    }
    int len = n;
    while (len > 0 && d[len - 1] == 0)
        --len;
    return QString::fromLatin1(reinterpret_cast<const char *>(d), len).remove(QChar(0));
}

void decCommandReply15(Cursor &c) {
    if (!c.has(5)) {
        c.tooShort(QStringLiteral("command length + server flag"));
        return;
    }
    const int cmdLen = c.d[c.pos];
    c.add(1, QStringLiteral("Command length"), [&]() -> QString { return QString::number(cmdLen); });
    c.add(4, QStringLiteral("Server flag"), [&]() -> QString { return hexWord(c.u16(c.pos)) + hexWord(c.u16(c.pos + 2)).mid(2); });
    const int textLen = std::max(0, c.remaining() >= 2 ? c.remaining() - 2 : c.remaining());
    const QString text = decodeText(c.d + c.pos, textLen, false).trimmed();
    if (textLen > 0)
        c.add(textLen, QStringLiteral("Text"), [&]() -> QString { return QLatin1Char('"') + text + QLatin1Char('"'); });
    if (c.remaining() == 2)
        c.add(2, QStringLiteral("Language"), [&]() -> QString { return hexWord(c.u16(c.pos)); });
    c.msg().text = text;
}

// "Current position!Lat:N54.739332,Lon:E25.273270,Course:126.53,Speed:0.0000,DateTime:2017-05-26  10:27:47"
void parseCurrentPosition(Cursor &c, const QString &text) {
    if (!text.startsWith(QLatin1String("Current position!")))
        return;
    Position p;
    bool latOk = false, lonOk = false;
    for (const QString &part : text.mid(17).split(QLatin1Char(','))) {
        const int colon = part.indexOf(QLatin1Char(':'));
        if (colon < 0)
            continue;
        const QString key = part.left(colon).trimmed();
        const QString val = part.mid(colon + 1).trimmed();
        if (key == QLatin1String("Lat") && val.size() > 1) {
            p.latitude = val.mid(1).toDouble(&latOk) * (val.startsWith(QLatin1Char('S')) ? -1 : 1);
        } else if (key == QLatin1String("Lon") && val.size() > 1) {
            p.longitude = val.mid(1).toDouble(&lonOk) * (val.startsWith(QLatin1Char('W')) ? -1 : 1);
        } else if (key == QLatin1String("Course")) {
            bool ok = false;
            const double v = val.toDouble(&ok);
            if (ok)
                p.course = v;
        } else if (key == QLatin1String("Speed")) {
            bool ok = false;
            const double v = val.toDouble(&ok);
            if (ok)
                p.speedKmh = v;
        } else if (key == QLatin1String("DateTime")) {
            // "2017-05-26  10:27:47" (QDateTime::fromString is slow: it consults the local zone).
            const QString t = val.simplified();
            bool ok[6] = {};
            const int y = t.mid(0, 4).toInt(&ok[0]), mo = t.mid(5, 2).toInt(&ok[1]), d = t.mid(8, 2).toInt(&ok[2]);
            const int h = t.mid(11, 2).toInt(&ok[3]), mi = t.mid(14, 2).toInt(&ok[4]), se = t.mid(17, 2).toInt(&ok[5]);
            const QDate date(y, mo, d);
            if (t.size() == 19 && ok[0] && ok[1] && ok[2] && ok[3] && ok[4] && ok[5] && date.isValid() && QTime::isValid(h, mi, se))
                p.time = QDateTime(date, QTime(h, mi, se), QTimeZone::UTC);
        }
    }
    if (latOk && lonOk) {
        p.valid = true;
        p.timeValid = p.time.isValid();
        appendPosition(c, std::move(p));
    }
}

void decCommandReply21(Cursor &c) {
    if (!c.has(5)) {
        c.tooShort(QStringLiteral("server flag + encoding"));
        return;
    }
    c.add(4, QStringLiteral("Server flag"), [&]() -> QString { return hexWord(c.u16(c.pos)) + hexWord(c.u16(c.pos + 2)).mid(2); });
    const int enc = c.d[c.pos];
    c.add(1, QStringLiteral("Encoding"), [&]() -> QString { return enc == 1 ? QStringLiteral("1 = ASCII") : enc == 2 ? QStringLiteral("2 = UTF-16BE") : QString::number(enc); });
    const int n = c.remaining();
    const QString text = decodeText(c.d + c.pos, n, enc == 2);
    if (n > 0)
        c.add(n, QStringLiteral("Text"), [&]() -> QString { return QLatin1Char('"') + text + QLatin1Char('"'); });
    c.msg().text = text;
    parseCurrentPosition(c, text);
}

// 0x80/0x81/0x82 content: command length + server flag + text [+ language].
void decCommandContent(Cursor &c) {
    const int lenBytes = c.longHeader ? 2 : 1;
    if (!c.has(lenBytes + 4)) {
        c.tooShort(QStringLiteral("command length + server flag"));
        return;
    }
    const int cmdLen = lenBytes == 2 ? c.u16(c.pos) : c.d[c.pos];
    c.add(lenBytes, QStringLiteral("Command length"), [&]() -> QString { return QString::number(cmdLen) + QLatin1String(" (server flag + text)"); });
    c.add(4, QStringLiteral("Server flag"), [&]() -> QString { return hexWord(c.u16(c.pos)) + hexWord(c.u16(c.pos + 2)).mid(2); });
    int textLen = std::min(std::max(0, cmdLen - 4), c.remaining());
    if (c.remaining() - textLen != 0 && c.remaining() - textLen != 2)
        textLen = c.remaining() >= 2 ? c.remaining() - 2 : c.remaining();
    const QString text = QString::fromUtf8(reinterpret_cast<const char *>(c.d + c.pos), textLen);
    if (textLen > 0)
        c.add(textLen, QStringLiteral("Command"), [&]() -> QString { return QLatin1Char('"') + printable(c.d + c.pos, textLen) + QLatin1Char('"'); });
    if (c.remaining() == 2)
        c.add(2, QStringLiteral("Language"), [&]() -> QString { return hexWord(c.u16(c.pos)); });
    c.msg().text = text;
}

void decInfo94(Cursor &c) {
    if (!c.longHeader) {   // 78 78: bare external power (Traccar)
        if (c.has(2)) {
            const int v = c.u16(c.pos);
            status(c).batteryVolts = v / 100.0;
            c.add(2, QStringLiteral("External power"), [&]() -> QString { return fmtFixed(v / 100.0, 2) + QLatin1String(" V"); });
        }
        return;
    }
    if (!c.has(1)) {
        c.tooShort(QStringLiteral("the sub-type"));
        return;
    }
    const int sub = c.d[c.pos];
    static const struct { int id; const char *name; } kSub[] = {
        {0x00, "external voltage"}, {0x04, "status sync"}, {0x05, "door status"}, {0x08, "self-check"},
        {0x09, "satellite SNRs"}, {0x0A, "IMEI/IMSI/ICCID"}, {0x0B, "network / power"}, {0x0D, "fuel sensor"},
        {0x1B, "RFID"}, {0x1E, "temperature/humidity"}};
    c.add(1, QStringLiteral("Sub-type"), [&]() -> QString {
        const char *subName = "unknown";
        for (const auto &s : kSub)
            if (s.id == sub)
                subName = s.name;
        return hexByte(sub) + QLatin1String(" = ") + QLatin1String(subName);
    });
    const int n = c.remaining();
    if (n <= 0)
        return;
    switch (sub) {
    case 0x00:
        if (n >= 2) {
            const int v = c.u16(c.pos);
            status(c).batteryVolts = v / 100.0;
            c.add(2, QStringLiteral("External voltage"), [&]() -> QString { return fmtFixed(v / 100.0, 2) + QLatin1String(" V"); });
        }
        break;
    case 0x04:
    case 0x0D: {
        const QString t = printable(c.d + c.pos, n);
        c.msg().text = t;
        c.add(n, QStringLiteral("Text"), [&]() -> QString { return QLatin1Char('"') + t + QLatin1Char('"'); });
        break;
    }
    case 0x05: {
        const int v = c.d[c.pos + n - 1];
        if (n > 1)
            c.add(n - 1, QStringLiteral("Date"), [&]() -> QString { return hexBytes(c.d + c.pos, n - 1); });
        if (c.annotate) {
            Field fl = makeField(c.pos, 1, QStringLiteral("Door status"), hexByte(v));
            fl.add(makeField(c.pos, 1, QStringLiteral("Door"), (v & 1) ? QStringLiteral("open (bit 0)") : QStringLiteral("closed (bit 0)")));
            fl.add(makeField(c.pos, 1, QStringLiteral("Trigger"), QString::number((v >> 1) & 1) + QLatin1String(" (bit 1)")));
            fl.add(makeField(c.pos, 1, QStringLiteral("I/O"), QString::number((v >> 2) & 1) + QLatin1String(" (bit 2)")));
            c.append(std::move(fl));
        }
        c.pos += 1;
        break;
    }
    case 0x0A:
        if (n >= 26) {
            bool ok = false;
            const QString imei = imeiFromBcd(c.d + c.pos, &ok);
            c.add(8, QStringLiteral("IMEI"), imei);
            QString imsi = bcdDigits(c.d + c.pos, 8);
            if (imsi.startsWith(QLatin1Char('0')))
                imsi.remove(0, 1);
            c.add(8, QStringLiteral("IMSI"), imsi);
            QString iccid = bcdDigits(c.d + c.pos, 10);
            while (iccid.endsWith(QLatin1Char('F')))
                iccid.chop(1);
            c.add(10, QStringLiteral("ICCID"), iccid);
            c.msg().text = QStringLiteral("IMEI %1, IMSI %2, ICCID %3").arg(imei, imsi, iccid);
            if (ok && c.msg().deviceId.isEmpty())
                c.msg().deviceId = imei;
        }
        break;
    case 0x0B:
        if (n == 1)
            c.add(1, QStringLiteral("Network"), [&]() -> QString { return c.d[c.pos] == 0 ? QStringLiteral("2G") : QStringLiteral("4G"); });
        else if (n >= 2) {
            const int v = c.u16(c.pos);
            c.add(2, QStringLiteral("Power"), [&]() -> QString { return fmtFixed(v / 100.0, 2) + QLatin1String(" V"); });
        }
        break;
    case 0x1B:
        c.add(n, QStringLiteral("RFID"), [&]() -> QString { return QLatin1Char('"') + printable(c.d + c.pos, n) + QLatin1String("\" (") + hexBytes(c.d + c.pos, std::min(n, 16)) + QLatin1Char(')'); });
        break;
    case 0x1E:
        if (n >= 8) {
            c.add(4, QStringLiteral("Temperature"), [&]() -> QString { return fmtFixed(qint32(c.u32(c.pos)) / 10.0, 1) + QStringLiteral(" °C"); });
            c.add(4, QStringLiteral("Humidity"), [&]() -> QString { return fmtFixed(c.u32(c.pos) / 10.0, 1) + QLatin1String(" %"); });
        }
        break;
    default:
        break;
    }
    c.rest(QStringLiteral("Data"));
}

void decPassThrough9B(Cursor &c) {
    if (!c.has(1)) {
        c.tooShort(QStringLiteral("the device type"));
        return;
    }
    c.add(1, QStringLiteral("Device type"), [&]() -> QString { return hexByte(c.d[c.pos]); });
    const int n = c.remaining();
    if (n > 0) {
        // Printable data (a trailing CR LF aside) reads as text, anything else as hex (as Traccar).
        int len = n;
        if (len >= 2 && c.d[c.pos + len - 2] == '\r' && c.d[c.pos + len - 1] == '\n')
            len -= 2;
        bool text = len > 0;
        for (int i = 0; i < len && text; ++i)
            text = c.d[c.pos + i] >= 0x20 && c.d[c.pos + i] < 0x7F;
        c.msg().text = text ? QString::fromLatin1(reinterpret_cast<const char *>(c.d + c.pos), len)
                            : toHex(QByteArray(reinterpret_cast<const char *>(c.d + c.pos), n)).toUpper();
        c.add(n, QStringLiteral("Pass-through data"),
              [&]() -> QString { return text ? QLatin1Char('"') + c.msg().text + QLatin1Char('"') : hexBytes(c.d + c.pos, std::min(n, 48)); });
    }
}

void decFirmwareFD(Cursor &c) {
    if (!c.has(8)) {
        c.tooShort(QStringLiteral("the IMEI"));
        return;
    }
    imeiField(c);
    int textAt = c.pos;
    while (textAt < c.end && c.d[textAt] != '[')
        ++textAt;
    if (textAt > c.pos)
        c.add(textAt - c.pos, QStringLiteral("Opaque"), [&]() -> QString { return hexBytes(c.d + c.pos, std::min(textAt - c.pos, 32)); });
    if (c.remaining() > 0) {
        const QString t = printable(c.d + c.pos, c.remaining());
        c.msg().text = t;
        c.add(c.remaining(), QStringLiteral("Firmware"), [&]() -> QString { return QLatin1Char('"') + t + QLatin1Char('"'); });
    }
}

void decTimeRequest8A(Cursor &) {}

QString alarm95Name(int event, bool shortForm) {
    switch (event) {
    case 0x01: return shortForm ? QStringLiteral("general") : QStringLiteral("sos");
    case 0x0E: return QStringLiteral("lowPower");
    case 0x76: return QStringLiteral("temperature");
    case 0x80: return QStringLiteral("vibration");
    case 0x87: return QStringLiteral("overspeed");
    case 0x88: return QStringLiteral("powerCut");
    case 0x90: return QStringLiteral("hardAcceleration");
    case 0x91: return QStringLiteral("hardBraking");
    case 0x92: return QStringLiteral("hardCornering");
    case 0x93: return QStringLiteral("accident");
    default: return {};
    }
}

void event95(Cursor &c, bool shortForm) {
    const int ev = c.d[c.pos];
    const QString name = alarm95Name(ev, shortForm);
    addAlarm(c.msg(), name);
    c.add(1, QStringLiteral("Event"), [&]() -> QString { return hexByte(ev) + (name.isEmpty() ? QString() : QLatin1String(" (") + name + QLatin1Char(')')); });
    if (c.has(2))
        c.add(2, QStringLiteral("Event data"), [&]() -> QString { return hexWord(c.u16(c.pos)); });
}

void fileList(Cursor &c) {
    const int n = c.remaining();
    if (n > 0) {
        const QString t = printable(c.d + c.pos, n);
        c.msg().text = t;
        c.add(n, QStringLiteral("Files"), [&]() -> QString { return QLatin1Char('"') + t + QLatin1Char('"'); });
    }
}

void decAlarm95(Cursor &c) {
    c.msg().kind = MessageKind::Alarm;
    if (c.has(2) && c.d[c.pos] == 0xFF && c.d[c.pos + 1] == 0xFF) {   // JC400
        if (!c.has(2 + 1 + 6 + 1 + 8 + 2 + 2 + 2 + 1)) {
            c.tooShort(QStringLiteral("the JC400 alarm"));
            return;
        }
        c.add(2, QStringLiteral("Marker"), QStringLiteral("FF FF (JC400)"));
        c.add(1, QStringLiteral("Version"), [&]() -> QString { return QString::number(c.d[c.pos]); });
        Position p;
        bool ok = false;
        const int at = c.pos;
        Field date = dateField(c, at, QStringLiteral("Date/time"), false, &p.time, &ok);
        p.timeValid = ok;
        const int sats = c.d[at + 6];
        // lat/lon + flags, then a 2-byte speed: decode body without the info byte.
        const quint32 rawLat = c.u32(at + 7), rawLon = c.u32(at + 11);
        const quint16 cw = c.u16(at + 15);
        const int speed = c.u16(at + 17);
        const bool north = cw & (1 << 10), west = cw & (1 << 11);
        p.latitude = rawLat / 1800000.0 * (north ? 1 : -1);
        p.longitude = rawLon / 1800000.0 * (west ? -1 : 1);
        p.valid = cw & (1 << 12);
        p.course = cw & 0x3FF;
        p.speedKmh = speed;
        p.satellites = sats & 15;
        if (c.annotate) {
            Field g = makeField(at, 6 + 1 + 8 + 2 + 2, QStringLiteral("GPS"));
            g.add(std::move(date));
            g.add(makeField(at + 6, 1, QStringLiteral("Satellites"), QString::number(sats & 15)));
            g.add(makeField(at + 7, 4, QStringLiteral("Latitude"), coordinateText(rawLat / 1800000.0, !north, true)));
            g.add(makeField(at + 11, 4, QStringLiteral("Longitude"), coordinateText(rawLon / 1800000.0, west, false)));
            Field cf = makeField(at + 15, 2, QStringLiteral("Course/status"), hexWord(cw));
            cf.add(makeField(at + 15, 2, QStringLiteral("Course"), QString::number(cw & 0x3FF) + QChar(0xB0)));
            cf.add(makeField(at + 15, 1, QStringLiteral("GPS fix"), p.valid ? QStringLiteral("valid (bit 12 = 1)") : QStringLiteral("not valid (bit 12 = 0)")));
            g.add(std::move(cf));
            g.add(makeField(at + 17, 2, QStringLiteral("Speed"), QString::number(speed) + QLatin1String(" km/h")));
            c.append(std::move(g));
        }
        c.pos += 19;
        const int power = c.u16(c.pos);
        c.add(2, QStringLiteral("Power"), [&]() -> QString { return fmtFixed(power / 100.0, 2) + QLatin1String(" V"); });
        event95(c, false);
        fileList(c);
        appendPosition(c, std::move(p));
        return;
    }
    if (!c.has(7)) {
        c.tooShort(QStringLiteral("date + event"));
        return;
    }
    if (c.remaining() <= 9) {   // short form: date + event [+ data]
        Position p;
        bool ok = false;
        c.append(dateField(c, c.pos, QStringLiteral("Date/time"), false, &p.time, &ok));
        c.pos += 6;
        event95(c, true);
        return;
    }
    if (!c.has(6 + 8 + 2 + 1)) {
        c.tooShort(QStringLiteral("the extended alarm"));
        return;
    }
    Position p;
    bool ok = false;
    Field date = dateField(c, c.pos, QStringLiteral("Date/time"), false, &p.time, &ok);
    p.timeValid = ok;
    const int at = c.pos + 6;
    const quint32 rawLat = c.u32(at), rawLon = c.u32(at + 4);
    const quint16 cw = c.u16(at + 8);
    const bool north = cw & (1 << 10), west = cw & (1 << 11);
    p.latitude = rawLat / 1800000.0 * (north ? 1 : -1);
    p.longitude = rawLon / 1800000.0 * (west ? -1 : 1);
    p.valid = cw & (1 << 12);
    p.course = cw & 0x3FF;
    if (c.annotate) {
        Field g = makeField(c.pos, 16, QStringLiteral("GPS"));
        g.add(std::move(date));
        g.add(makeField(at, 4, QStringLiteral("Latitude"), coordinateText(rawLat / 1800000.0, !north, true)));
        g.add(makeField(at + 4, 4, QStringLiteral("Longitude"), coordinateText(rawLon / 1800000.0, west, false)));
        Field cf = makeField(at + 8, 2, QStringLiteral("Course/status"), hexWord(cw));
        cf.add(makeField(at + 8, 2, QStringLiteral("Course"), QString::number(cw & 0x3FF) + QChar(0xB0)));
        cf.add(makeField(at + 8, 1, QStringLiteral("GPS fix"), p.valid ? QStringLiteral("valid (bit 12 = 1)") : QStringLiteral("not valid (bit 12 = 0)")));
        g.add(std::move(cf));
        c.append(std::move(g));
    }
    c.pos += 16;
    event95(c, false);
    fileList(c);
    appendPosition(c, std::move(p));
}

void decGpsPhone(Cursor &c) {
    Position p;
    if (!gpsBlock(c, p))
        return;
    if (c.has(21)) {
        c.add(21, QStringLiteral("Phone number"), [&]() -> QString {
            const QString phone = printable(c.d + c.pos, 21);
            return phone.isEmpty() ? QStringLiteral("(none)") : phone;
        });
    }
    if (c.has(1))
        alarmLanguage(c, false);
    appendPosition(c, std::move(p));
    finishAlarmKind(c, MessageKind::Position);
}

// Vendor GPS variants: `prefix` bytes before a standard GPS block, the rest kept raw.
void gpsAt(Cursor &c, int prefix, const QString &prefixName) {
    if (prefix > 0) {
        if (!c.has(prefix)) {
            c.tooShort(prefixName);
            return;
        }
        c.add(prefix, prefixName, [&]() -> QString { return hexBytes(c.d + c.pos, prefix); });
    }
    Position p;
    if (gpsBlock(c, p))
        appendPosition(c, std::move(p));
}

void decGpsVariant(Cursor &c) { gpsAt(c, 0, {}); }
void decGpsLbsVariant(Cursor &c) {
    Position p;
    if (!gpsBlock(c, p))
        return;
    if (c.remaining() >= 8)
        lbsBlock(c, p, CellForm::G2);
    appendPosition(c, std::move(p));
}
void decX1(Cursor &c) { gpsAt(c, 4, QStringLiteral("X1 header")); }
void decIButton61(Cursor &c) {
    if (!c.has(8)) {
        c.tooShort(QStringLiteral("the IMEI"));
        return;
    }
    imeiField(c);
    gpsAt(c, 0, {});
}

void decGps24(Cursor &c) {
    if (c.lengthField == 0x31) {   // Wanway S20: multi-LBS
        Position p = lbsPosition();
        bool ok = false;
        if (c.has(6)) {
            c.append(dateField(c, c.pos, QStringLiteral("Date/time"), false, &p.time, &ok));
            c.pos += 6;
        }
        c.rest(QStringLiteral("LBS data (Wanway S20)"));
        c.msg().kind = MessageKind::Lbs;
        return;
    }
    decGpsLbsVariant(c);
}

void decGps25(Cursor &c) {
    ntPrefix(c);
    Position p;
    if (gpsBlock(c, p))
        appendPosition(c, std::move(p));
}

void decGps17(Cursor &c) {
    if (c.lengthField == 0x28) {   // GPS + LBS + RFID
        decGpsLbsVariant(c);
        return;
    }
    c.msg().kind = MessageKind::Lbs;   // LBS + phone address query
    Position p = lbsPosition();
    if (c.remaining() >= 8)
        lbsBlock(c, p, CellForm::G2);
    if (c.has(21))
        c.add(21, QStringLiteral("Phone number"), [&]() -> QString { return printable(c.d + c.pos, 21); });
    if (!p.cells.isEmpty())
        appendPosition(c, std::move(p));
}

void decA3(Cursor &c) {
    if (c.remaining() >= 18 + 5) {
        decGpsLbsVariant(c);
        return;
    }
    c.msg().kind = MessageKind::Status;
    c.rest(QStringLiteral("Status data"));
}

void decGps36(Cursor &c) {
    if (c.lengthField >= 0x30) {
        decGpsLbsVariant(c);
        return;
    }
    c.msg().kind = MessageKind::Status;
    c.rest(QStringLiteral("Status modules"));
}

// 79 79 0x32/0x33: date + GPS length (0 = no fix) + GPS body.
void decGpsLong32(Cursor &c) {
    if (!c.longHeader) {
        decGpsLbsVariant(c);
        return;
    }
    if (!c.has(7)) {
        c.tooShort(QStringLiteral("date + GPS length"));
        return;
    }
    Position p;
    bool ok = false;
    c.append(dateField(c, c.pos, QStringLiteral("Date/time"), false, &p.time, &ok));
    p.timeValid = ok;
    c.pos += 6;
    const int gl = c.d[c.pos];
    c.add(1, QStringLiteral("GPS length"), [&]() -> QString { return QString::number(gl) + (gl == 0 ? QLatin1String(" (no GPS)") : QLatin1String("")); });
    if (gl >= 12 && c.has(gl)) {
        if (c.annotate) {
            Field g = makeField(c.pos, gl, QStringLiteral("GPS"));
            gpsBody(c, c.pos, g, p);
            g.value = p.valid ? QStringLiteral("valid fix") : QStringLiteral("no valid fix");
            c.append(std::move(g));
        } else {
            gpsBody(c, c.pos, c.scratch, p);
        }
        c.pos += gl;
        appendPosition(c, std::move(p));
    } else {
        c.msg().kind = MessageKind::Status;   // no fix; the LBS/Wi-Fi part is not documented
        c.rest(QStringLiteral("LBS/Wi-Fi data (undocumented layout)"));
    }
}

void decDateAscii(Cursor &c) {
    if (!c.has(6)) {
        c.tooShort(QStringLiteral("the date"));
        return;
    }
    QDateTime t;
    bool ok = false;
    c.append(dateField(c, c.pos, QStringLiteral("Date/time"), false, &t, &ok));
    c.pos += 6;
    if (c.has(1))
        c.add(1, QStringLiteral("ACC"), [&]() -> QString { return QString::number(c.d[c.pos]); });
    int textEnd = c.pos;
    while (textEnd < c.end && c.d[textEnd] >= 0x20 && c.d[textEnd] < 0x7F)
        ++textEnd;
    if (textEnd > c.pos) {
        const QString t2 = printable(c.d + c.pos, textEnd - c.pos);
        c.msg().text = t2;
        c.add(textEnd - c.pos, QStringLiteral("Data"), [&]() -> QString { return QLatin1Char('"') + t2 + QLatin1Char('"'); });
    }
    c.rest(QStringLiteral("Binary data"));
}

QString moduleName(int id) {
    switch (id) {
    case 0x0001: return QStringLiteral("IMEI");
    case 0x0003: return QStringLiteral("ICCID");
    case 0x0009: return QStringLiteral("Satellites");
    case 0x000A: return QStringLiteral("Satellites visible");
    case 0x0011: return QStringLiteral("LBS");
    case 0x0018: return QStringLiteral("Battery voltage");
    case 0x0028: return QStringLiteral("HDOP");
    case 0x0029: return QStringLiteral("Odometer");
    case 0x002B: return QStringLiteral("Driving time");
    case 0x002C: return QStringLiteral("Time");
    case 0x002E: return QStringLiteral("Odometer");
    case 0x0033: return QStringLiteral("GPS");
    case 0x0034: return QStringLiteral("Event");
    default: return QLatin1String("Module ") + hexWord(id);
    }
}

QDateTime unixTime(quint32 s) { return utcDateTime(qint64(s) * 1000); }

void decModular70(Cursor &c) {
    c.msg().kind = MessageKind::Status;
    while (c.remaining() >= 4) {
        const int id = c.u16(c.pos);
        const int len = c.u16(c.pos + 2);
        if (!c.has(4 + len))
            break;
        Field g;   // the module's field (built only when annotating)
        if (c.annotate) {
            g = makeField(c.pos, 4 + len, moduleName(id));
            g.add(makeField(c.pos, 2, QStringLiteral("Module type"), hexWord(id)));
            g.add(makeField(c.pos + 2, 2, QStringLiteral("Module length"), QString::number(len)));
        }
        const int v = c.pos + 4;
        if (id == 0x0033 && len >= 18) {
            Position p;
            const quint32 t = c.u32(v);
            p.time = unixTime(t);
            p.satellites = c.d[v + 4];
            const int alt = qint16(c.u16(v + 5));
            p.altitude = alt;
            if (c.annotate) {
                g.add(makeField(v, 4, QStringLiteral("Time"), fmtDateTime(p.time) + QLatin1String(" UTC (Unix ") + QString::number(t) + QLatin1Char(')')));
                g.add(makeField(v + 4, 1, QStringLiteral("Satellites"), QString::number(c.d[v + 4])));
                g.add(makeField(v + 5, 2, QStringLiteral("Altitude"), QString::number(alt) + QLatin1String(" m")));
            }
            gpsBody(c, v + 7, g, p, false);   // no GPS info byte: the satellites stay as read above
            if (c.annotate)
                g.value = p.valid ? QStringLiteral("valid fix") : QStringLiteral("no valid fix");
            appendPosition(c, std::move(p));
            c.msg().kind = MessageKind::Position;
        } else if (!c.annotate) {
            // other modules carry nothing typed
        } else if ((id == 0x002C) && len == 4) {
            g.value = fmtDateTime(unixTime(c.u32(v))) + QLatin1String(" UTC");
            if (len > 0)
                g.add(makeField(v, len, QStringLiteral("Value"), g.value));
        } else if (id == 0x0001 && len == 8) {
            bool ok = false;
            g.value = imeiFromBcd(c.d + v, &ok);
            g.add(makeField(v, len, QStringLiteral("Value"), g.value));
        } else if (len > 0) {
            g.value = hexBytes(c.d + v, std::min(len, 24));
            g.add(makeField(v, len, QStringLiteral("Value"), g.value));
        }
        c.append(std::move(g));
        c.pos += 4 + len;
    }
}

// 0xF1 / 0xF2: Unix time + TLV (id 2, len 1).
void decTlvF1(Cursor &c) {
    c.msg().kind = MessageKind::Status;
    if (!c.has(4)) {
        c.tooShort(QStringLiteral("the Unix time"));
        return;
    }
    c.add(4, QStringLiteral("Time"), [&]() -> QString { return fmtDateTime(unixTime(c.u32(c.pos))) + QLatin1String(" UTC"); });
    while (c.remaining() >= 3) {
        const int id = c.u16(c.pos);
        const int len = c.d[c.pos + 2];
        if (!c.has(3 + len))
            break;
        if (c.annotate) {
            Field g = makeField(c.pos, 3 + len, QLatin1String("TLV ") + hexWord(id));
            g.add(makeField(c.pos, 2, QStringLiteral("Id"), hexWord(id)));
            g.add(makeField(c.pos + 2, 1, QStringLiteral("Length"), QString::number(len)));
            if (len > 0) {
                g.value = hexBytes(c.d + c.pos + 3, std::min(len, 24));
                g.add(makeField(c.pos + 3, len, QStringLiteral("Value"), g.value));
            }
            c.append(std::move(g));
        }
        c.pos += 3 + len;
    }
}

void decWifiF3(Cursor &c) {
    Position p = lbsPosition();
    p.source = PositionSource::Wifi;
    if (!c.has(7)) {
        c.tooShort(QStringLiteral("BCD time + count"));
        return;
    }
    bool ok = false;
    // Documented as BCD; real units also send it in binary.
    bool bcd = true;
    for (int i = 0; i < 6; ++i)
        bcd = bcd && (c.d[c.pos + i] >> 4) <= 9 && (c.d[c.pos + i] & 15) <= 9;
    c.append(dateField(c, c.pos, QStringLiteral("Date/time"), bcd, &p.time, &ok));
    p.timeValid = ok;
    c.pos += 6;
    const int count = c.d[c.pos];
    c.add(1, QStringLiteral("Wi-Fi count"), [&]() -> QString { return QString::number(count); });
    p.wifi.reserve(std::min(count, c.remaining() / 8));
    for (int i = 0; i < count && c.has(8); ++i) {
        WifiAccessPoint ap;
        ap.bssid = bssidText(c.d + c.pos + 2);
        if (c.annotate) {
            Field g = makeField(c.pos, 8, QLatin1String("Wi-Fi ") + num(i + 1), ap.bssid);
            g.add(makeField(c.pos, 2, QStringLiteral("Unknown"), hexWord(c.u16(c.pos))));
            g.add(makeField(c.pos + 2, 6, QStringLiteral("BSSID"), ap.bssid));
            c.append(std::move(g));
        }
        c.pos += 8;
        p.wifi.append(std::move(ap));
    }
    if (!p.wifi.isEmpty())
        appendPosition(c, std::move(p));
}

void decRaw(Cursor &c) { c.rest(QStringLiteral("Content")); }

// ---------------------------------------------------------------------------------
// Topin dialect
// ---------------------------------------------------------------------------------

void decTopinLogin(Cursor &c) {
    if (!c.has(8)) {
        c.tooShort(QStringLiteral("the IMEI"));
        return;
    }
    bool ok = false;
    const QString imei = imeiFromBcd(c.d + c.pos, &ok);
    Field &fl = c.add(8, QStringLiteral("IMEI"), imei);
    if (!ok)
        c.warn(fl, QStringLiteral("IMEI is not BCD"));
    c.msg().deviceId = imei;
    if (c.has(1)) {
        const int v = c.d[c.pos];
        c.msg().model = QStringLiteral("topin sw ") + QString::number(v);
        c.add(1, QStringLiteral("Software version"), [&]() -> QString { return QString::number(v) + QLatin1String(" (") + hexByte(v) + QLatin1Char(')'); });
    }
}

void decTopinStatus(Cursor &c) {
    const int n = c.remaining();
    Status &s = status(c);
    if (n >= 7) {   // the real ZX303 log: status bits, battery %, signal, sw, tz, ?, ?
        c.add(1, QStringLiteral("Status bits"), [&]() -> QString { return hexByte(c.d[c.pos]); });
        s.batteryPercent = std::min<int>(c.d[c.pos], 100);
        c.add(1, QStringLiteral("Battery"), [&]() -> QString { return QString::number(c.d[c.pos]) + QLatin1String(" %"); });
        s.gsmSignal = c.d[c.pos];
        c.add(1, QStringLiteral("Signal"), [&]() -> QString { return QString::number(c.d[c.pos]); });
        c.add(1, QStringLiteral("Software version"), [&]() -> QString { return QString::number(c.d[c.pos]); });
        c.add(1, QStringLiteral("Time zone"), [&]() -> QString { return QString::number(qint8(c.d[c.pos])) + QLatin1String(" h"); });
        return;
    }
    // Topin document / Traccar: battery %, software version, time zone, interval [, signal].
    if (c.has(1)) {
        s.batteryPercent = std::min<int>(c.d[c.pos], 100);
        c.add(1, QStringLiteral("Battery"), [&]() -> QString { return QString::number(c.d[c.pos]) + QLatin1String(" %"); });
    }
    if (c.has(1))
        c.add(1, QStringLiteral("Software version"), [&]() -> QString { return QString::number(c.d[c.pos]); });
    if (c.has(1))
        c.add(1, QStringLiteral("Time zone"), [&]() -> QString { return QString::number(qint8(c.d[c.pos])) + QLatin1String(" h"); });
    if (c.has(1))
        c.add(1, QStringLiteral("Status interval"), [&]() -> QString { return QString::number(c.d[c.pos]) + QLatin1String(" min"); });
    if (c.has(1)) {
        s.gsmSignal = c.d[c.pos];
        c.add(1, QStringLiteral("Signal"), [&]() -> QString { return QString::number(c.d[c.pos]); });
    }
}

void decTopinGps(Cursor &c) {
    Position p;
    if (gpsBlock(c, p))
        appendPosition(c, std::move(p));
}

void decTopinWifi(Cursor &c) {
    const int count = c.lengthField;
    if (!c.has(6)) {
        c.tooShort(QStringLiteral("the BCD time"));
        return;
    }
    Position p = lbsPosition();
    bool ok = false;
    c.append(dateField(c, c.pos, QStringLiteral("Date/time"), true, &p.time, &ok));
    p.timeValid = ok;
    c.pos += 6;
    p.wifi.reserve(std::min(count, c.remaining() / 7));
    for (int i = 0; i < count; ++i) {
        if (!c.has(7)) {
            c.tooShort(QStringLiteral("the Wi-Fi list"));
            return;
        }
        WifiAccessPoint ap;
        const uchar *m = c.d + c.pos;
        ap.bssid = bssidText(m);
        ap.rssi = -int(m[6]);
        if (c.annotate) {
            Field g = makeField(c.pos, 7, QLatin1String("Wi-Fi ") + num(i + 1), ap.bssid + QLatin1Char(' ') + QString::number(ap.rssi) + QLatin1String(" dBm"));
            g.add(makeField(c.pos, 6, QStringLiteral("BSSID"), ap.bssid));
            g.add(makeField(c.pos + 6, 1, QStringLiteral("RSSI"), QString::number(ap.rssi) + QLatin1String(" dBm")));
            c.append(std::move(g));
        }
        c.pos += 7;
        p.wifi.append(std::move(ap));
    }
    if (!c.has(4)) {
        c.tooShort(QStringLiteral("cell count + MCC/MNC"));
        return;
    }
    const int cells = c.d[c.pos];
    c.add(1, QStringLiteral("Cell count"), [&]() -> QString { return QString::number(cells); });
    const int mcc = c.u16(c.pos);
    c.add(2, QStringLiteral("MCC"), [&]() -> QString { return QString::number(mcc); });
    const int mnc = c.d[c.pos];
    c.add(1, QStringLiteral("MNC"), [&]() -> QString { return QString::number(mnc); });
    p.cells.reserve(std::min(cells, c.remaining() / 5));
    for (int i = 0; i < cells; ++i) {
        if (!c.has(5)) {
            c.tooShort(QStringLiteral("the cell list"));
            return;
        }
        CellTower cell;
        cell.mcc = mcc;
        cell.mnc = mnc;
        cell.lac = c.u16(c.pos);
        cell.cellId = c.u16(c.pos + 2);
        cell.signal = c.d[c.pos + 4];
        if (c.annotate) {
            Field g = makeField(c.pos, 5, QLatin1String("Cell ") + num(i + 1),
                                QLatin1String("LAC ") + num(cell.lac) + QLatin1String(" CI ") + num(cell.cellId)
                                    + QLatin1String(" RSSI ") + num(cell.signal));
            g.add(makeField(c.pos, 2, QStringLiteral("LAC"), QString::number(cell.lac)));
            g.add(makeField(c.pos + 2, 2, QStringLiteral("Cell ID"), QString::number(cell.cellId)));
            g.add(makeField(c.pos + 4, 1, QStringLiteral("RSSI"), QString::number(cell.signal)));
            c.append(std::move(g));
        }
        c.pos += 5;
        p.cells.append(cell);
    }
    if (!p.wifi.isEmpty())
        p.source = PositionSource::Wifi;
    appendPosition(c, std::move(p));
}

void decTopinEvent(Cursor &c) {
    switch (c.type) {
    case 0x94: addAlarm(c.msg(), QStringLiteral("vibration")); break;
    case 0x99: addAlarm(c.msg(), QStringLiteral("sos")); break;
    case 0x82: status(c).charging = true; break;
    case 0x83: status(c).charging = false; break;
    case 0x81: status(c).charging = false; break;
    default: break;
    }
    c.rest(QStringLiteral("Content"));
}

void decTopinEcho(Cursor &c) {
    if (c.has(2)) {
        c.add(2, QStringLiteral("Interval"), [&]() -> QString { return QString::number(c.u16(c.pos)); });
    }
    c.rest(QStringLiteral("Content"));
}

void decNothing(Cursor &) {}

// ---------------------------------------------------------------------------------
// Catalogues
// ---------------------------------------------------------------------------------

using K = MessageKind;
using R = ReplyPolicy;

// Standard (GT06/Concox) device -> server. localTime: classic types whose timestamps may
// be device-local (the login time zone applies); the others are documented as UTC.
constexpr MessageDef kStandard[] = {
    {0x01, u"Login", K::Login, R::Ack, false, decLogin},
    {0x10, u"GPS location", K::Position, R::Ack, true, decGps10},
    {0x11, u"GPS+LBS location (variant)", K::Position, R::Ack, true, decGps11},
    {0x12, u"GPS+LBS location", K::Position, R::Ack, true, decGpsLbs12},
    {0x13, u"Status (heartbeat)", K::Heartbeat, R::Ack, false, decStatus13},
    {0x15, u"Command reply", K::CommandReply, R::None, false, decCommandReply15},
    {0x16, u"GPS+LBS+status alarm", K::Alarm, R::Ack, true, decAlarm16},
    {0x17, u"LBS + phone address query", K::Lbs, R::Ack, true, decGps17},
    {0x18, u"LBS extend", K::Lbs, R::Ack, true, decLbsExtend},
    {0x19, u"LBS + status", K::Lbs, R::Ack, false, decLbsStatus19},
    {0x1A, u"GPS + phone address query", K::Position, R::AddressReply, true, decGpsPhone},
    {0x1E, u"GPS location (JI09)", K::Position, R::Ack, true, decGpsVariant},
    {0x21, u"Command reply (new)", K::CommandReply, R::None, false, decCommandReply21},
    {0x22, u"GPS+LBS location (UTC)", K::Position, R::Ack, false, decGpsLbs22},
    {0x23, u"Heartbeat", K::Heartbeat, R::Ack, false, decHeartbeat23},
    {0x24, u"GPS+LBS location (S20/SR411)", K::Position, R::Ack, false, decGps24},
    {0x25, u"GPS location (XT40)", K::Position, R::Ack, false, decGps25},
    {0x26, u"Alarm (UTC)", K::Alarm, R::Ack, false, decAlarm26},
    {0x27, u"Alarm with fence (UTC)", K::Alarm, R::Ack, false, decAlarm27},
    {0x28, u"Multi-cell LBS", K::Lbs, R::Ack, false, decLbsExtend},
    {0x2A, u"GPS address request", K::Position, R::AddressReply, false, decGpsPhone},
    {0x2C, u"LBS + Wi-Fi", K::Lbs, R::Ack, false, decLbsWifi2C},
    {0x2D, u"GPS location (variant 0x2D)", K::Position, R::Ack, false, decGpsVariant},
    {0x2E, u"Multi-cell LBS (variant)", K::Lbs, R::Ack, false, decLbsExtend},
    {0x31, u"GPS location (AZ735/SL4X)", K::Position, R::Ack, false, decGpsLbsVariant},
    {0x32, u"GPS location (GT06V4/AZ735)", K::Position, R::Ack, false, decGpsLong32},
    {0x33, u"Wi-Fi/LBS (AZ735)", K::Lbs, R::Ack, false, decGpsLong32},
    {0x34, u"GPS location (X1)", K::Position, R::Ack, false, decX1},
    {0x35, u"Photo info (X1)", K::Information, R::Ack, false, decRaw},
    {0x36, u"GPS location / status (TRX16I/Jimi)", K::Position, R::Ack, false, decGps36},
    {0x37, u"GPS location (modules)", K::Position, R::Ack, false, decGpsLbsVariant},
    {0x38, u"GPS location (4G cell type)", K::Position, R::Ack, false, decGpsVariant},
    {0x61, u"GPS location (iButton)", K::Position, R::Ack, false, decIButton61},
    {0x66, u"DTC/PID", K::Information, R::Ack, false, decDateAscii},
    {0x70, u"Modular GPS", K::Position, R::LongAck, false, decModular70},
    {0x80, u"Online command", K::Information, R::None, false, decCommandContent},
    {0x81, u"Command (variant 0x81)", K::Information, R::None, false, decCommandContent},
    {0x82, u"Command (variant 0x82)", K::Information, R::None, false, decCommandContent},
    {0x8A, u"Time request", K::TimeRequest, R::TimeReply, false, decTimeRequest8A},
    {0x8C, u"OBD data", K::Information, R::Ack, false, decDateAscii},
    {0x94, u"Information", K::Information, R::None, false, decInfo94},
    {0x95, u"Dash-cam alarm", K::Alarm, R::Ack, false, decAlarm95},
    {0x9B, u"Serial pass-through", K::Information, R::None, false, decPassThrough9B},
    {0xA0, u"GPS+LBS location 4G", K::Position, R::Ack, false, decGpsLbs4G},
    {0xA1, u"Multi-cell LBS 4G", K::Lbs, R::Ack, false, decLbsMulti4G},
    {0xA2, u"Wi-Fi + LBS 4G", K::Lbs, R::Ack, false, decA2},
    {0xA3, u"Fence alarm / status (GK310)", K::Position, R::Ack, false, decA3},
    {0xA4, u"Multi-fence alarm 4G", K::Alarm, R::Ack, false, decAlarmA4},
    {0xA5, u"LBS alarm 4G", K::Alarm, R::Ack, false, decLbsAlarmA5},
    {0xA7, u"LBS address request (GK310)", K::Lbs, R::Ack, false, decRaw},
    {0xF1, u"Device status", K::Status, R::LongAck, false, decTlvF1},
    {0xF2, u"Peripheral data", K::Status, R::LongAck, false, decTlvF1},
    {0xF3, u"Wi-Fi list", K::Lbs, R::None, false, decWifiF3},
    {0xFD, u"Firmware version", K::Information, R::None, false, decFirmwareFD},
};

// Topin ZX303/ZX612 device -> server (fact sheet 4.1, 4.4, 6).
constexpr MessageDef kTopin[] = {
    {0x01, u"Login", K::Login, R::TopinAck, false, decTopinLogin},
    {0x08, u"Heartbeat", K::Heartbeat, R::None, false, decNothing},
    {0x10, u"GPS location", K::Position, R::TopinTimeEcho, false, decTopinGps},
    {0x11, u"GPS location (offline)", K::Position, R::TopinTimeEcho, false, decTopinGps},
    {0x13, u"Status", K::Heartbeat, R::TopinAck, false, decTopinStatus},
    {0x14, u"Going to sleep", K::Status, R::None, false, decTopinEvent},
    {0x15, u"Factory reset done", K::Information, R::None, false, decTopinEvent},
    {0x17, u"Wi-Fi + LBS (offline)", K::Lbs, R::TopinTimeEcho, false, decTopinWifi},
    {0x30, u"Time request", K::TimeRequest, R::TopinTime, false, decNothing},
    {0x56, u"Worn / removed", K::Status, R::None, false, decTopinEvent},
    {0x57, u"Settings request", K::Information, R::None, false, decTopinEvent},
    {0x58, u"Whitelist request", K::Information, R::None, false, decTopinEvent},
    {0x67, u"Password recovery", K::Information, R::None, false, decTopinEvent},
    {0x69, u"Wi-Fi + LBS", K::Lbs, R::TopinTimeEcho, false, decTopinWifi},
    {0x81, u"Charge complete", K::Status, R::None, false, decTopinEvent},
    {0x82, u"Charger connected", K::Status, R::None, false, decTopinEvent},
    {0x83, u"Charger disconnected", K::Status, R::None, false, decTopinEvent},
    {0x94, u"Vibration alarm", K::Alarm, R::None, false, decTopinEvent},
    {0x98, u"Interval changed by SMS", K::Information, R::TopinEcho, false, decTopinEcho},
    {0x99, u"SOS", K::Alarm, R::None, false, decTopinEvent},
};

template <size_t N>
std::array<const MessageDef *, 256> indexOf(const MessageDef (&table)[N]) {
    std::array<const MessageDef *, 256> idx{};
    for (const MessageDef &m : table)
        idx[m.type] = &m;
    return idx;
}

struct NameEntry {
    int type;
    QStringView name;
};

constexpr NameEntry kTopinDownlink[] = {
    {0x01, u"Login reply"}, {0x05, u"Monitoring mode"}, {0x10, u"GPS reply (time echo)"}, {0x11, u"GPS reply (time echo)"},
    {0x13, u"Status reply / set interval"}, {0x16, u"Whitelist count"}, {0x17, u"Wi-Fi reply (time echo)"},
    {0x30, u"Time reply"}, {0x33, u"LBS enable"}, {0x34, u"GPS/LBS schedule"}, {0x40, u"Listen number"},
    {0x41, u"SOS number"}, {0x42, u"Dad number"}, {0x43, u"Mom number"}, {0x44, u"Stop uploading"},
    {0x46, u"GPS off window"}, {0x47, u"Do not disturb"}, {0x48, u"Restart / power off"}, {0x49, u"Find device"},
    {0x50, u"Alarm clocks"}, {0x57, u"Settings reply"}, {0x58, u"Whitelist"}, {0x61, u"Light"},
    {0x64, u"Record audio"}, {0x65, u"Record audio"}, {0x66, u"Change server"}, {0x69, u"Wi-Fi reply"},
    {0x80, u"Locate now"}, {0x86, u"Overspeed"}, {0x92, u"Vibration alarm on"}, {0x93, u"Vibration alarm off"},
    {0x97, u"Upload interval"}, {0x98, u"Interval echo"},
};

} // namespace

// ---------------------------------------------------------------------------------
// Lookups and the downlink direction
// ---------------------------------------------------------------------------------

const MessageDef *standardMessage(int type) {
    static const std::array<const MessageDef *, 256> idx = indexOf(kStandard);
    return type >= 0 && type < 256 ? idx[size_t(type)] : nullptr;
}

const MessageDef *topinMessage(int type) {
    static const std::array<const MessageDef *, 256> idx = indexOf(kTopin);
    return type >= 0 && type < 256 ? idx[size_t(type)] : nullptr;
}

QStringView standardDownlinkName(int type) {
    switch (type) {
    case 0x80: return u"Online command";
    case 0x8A: return u"Time calibration reply";
    case 0x97: return u"Address reply (English)";
    case 0x17: return u"Address reply (Chinese)";
    default: {
        const MessageDef *m = standardMessage(type);
        return m ? m->name : QStringView();
    }
    }
}

QStringView topinDownlinkName(int type) {
    for (const NameEntry &e : kTopinDownlink)
        if (e.type == type)
            return e.name;
    return {};
}

void decodeStandardDownlink(Cursor &c) {
    const int n = c.remaining();
    if (n == 0) {
        const MessageDef *m = standardMessage(c.type);
        c.f->typeName = QLatin1String("Acknowledgement of ") + hexByte(c.type)
                        + (m ? QLatin1String(" (") + m->name + QLatin1Char(')') : QString());
        if (c.annotate)   // the "Protocol number" field shows the new name too
            c.f->fields[2].value = hexByte(c.type) + QLatin1String(" (") + c.f->typeName + QLatin1Char(')');
        return;
    }
    switch (c.type) {
    case 0x80:
        decCommandContent(c);
        break;
    case 0x8A:
        if (n >= 6) {
            QDateTime t;
            bool ok = false;
            c.append(dateField(c, c.pos, QStringLiteral("UTC time"), false, &t, &ok, false));
            c.pos += 6;
        }
        break;
    case 0x17:
    case 0x97: {
        const int lenBytes = c.type == 0x97 ? 2 : 1;
        if (!c.has(lenBytes + 4)) {
            c.tooShort(QStringLiteral("command length + server flag"));
            return;
        }
        c.add(lenBytes, QStringLiteral("Command length"), [&]() -> QString { return QString::number(c.uN(c.pos, lenBytes)); });
        c.add(4, QStringLiteral("Server flag"), [&]() -> QString { return hexWord(c.u16(c.pos)) + hexWord(c.u16(c.pos + 2)).mid(2); });
        const int tl = c.remaining();
        if (tl > 0) {
            const QString t = printable(c.d + c.pos, tl);
            c.msg().text = t;
            c.add(tl, QStringLiteral("Address text"), [&]() -> QString { return QLatin1Char('"') + t + QLatin1Char('"'); });
        }
        break;
    }
    default:
        c.rest(QStringLiteral("Content"));
        break;
    }
}

void decodeTopinDownlink(Cursor &c) {
    const int n = c.remaining();
    if (c.lengthField == 0 && n == 6) {
        QDateTime t;
        bool ok = false;
        const bool bcd = c.type == 0x17 || c.type == 0x69;
        c.append(dateField(c, c.pos, QStringLiteral("Time (echoed)"), bcd, &t, &ok, false));
        c.pos += 6;
        return;
    }
    if (c.type == 0x30 && n == 7) {
        const int y = c.u16(c.pos);
        c.add(2, QStringLiteral("Year"), [&]() -> QString { return QString::number(y); });
        c.add(1, QStringLiteral("Month"), [&]() -> QString { return QString::number(c.d[c.pos]); });
        c.add(1, QStringLiteral("Day"), [&]() -> QString { return QString::number(c.d[c.pos]); });
        c.add(1, QStringLiteral("Hour"), [&]() -> QString { return QString::number(c.d[c.pos]); });
        c.add(1, QStringLiteral("Minute"), [&]() -> QString { return QString::number(c.d[c.pos]); });
        c.add(1, QStringLiteral("Second"), [&]() -> QString { return QString::number(c.d[c.pos]); });
        return;
    }
    if (c.type == 0x69 && n > 0) {
        const QString t = printable(c.d + c.pos, n);
        c.msg().text = t;
        c.add(n, QStringLiteral("Position text"), [&]() -> QString { return QLatin1Char('"') + t + QLatin1Char('"'); });
        return;
    }
    c.rest(QStringLiteral("Content"));
}

int topinWifiFrameSize(const uchar *d, int n) {
    if (n < 4 || d[0] != 0x78 || d[1] != 0x78 || (d[3] != 0x69 && d[3] != 0x17))
        return -1;
    const int count = d[2];
    const int cellCountAt = 4 + 6 + 7 * count;
    if (n <= cellCountAt)
        return 0;
    return cellCountAt + 1 + 3 + 5 * d[cellCountAt] + 2;
}

// ---------------------------------------------------------------------------------
// Summary line
// ---------------------------------------------------------------------------------

namespace {

using textline::Line;

void plural(Line &l, int n, QLatin1StringView one, QLatin1StringView many) { l.number(n) << ' ' << (n == 1 ? one : many); }

void positionSummary(Line &l, const Position &p) {
    if (!p.hasCoordinates) {
        if (!p.wifi.isEmpty())
            plural(l, int(p.wifi.size()), "Wi-Fi AP"_L1, "Wi-Fi APs"_L1);
        if (!p.cells.isEmpty()) {
            if (!p.wifi.isEmpty())
                l << " + ";
            plural(l, int(p.cells.size()), "cell"_L1, "cells"_L1);
            l << " (MCC ";
            l.number(p.cells.first().mcc) << " MNC ";
            l.number(p.cells.first().mnc) << ')';
        }
        if (p.wifi.isEmpty() && p.cells.isEmpty())
            l << "no location data";
        return;
    }
    l.fixed(std::abs(p.latitude), 4) << QChar(0xB0) << (p.latitude < 0 ? 'S' : 'N') << ' ';
    l.fixed(std::abs(p.longitude), 4) << QChar(0xB0) << (p.longitude < 0 ? 'W' : 'E');
    if (p.speedKmh) {
        const double sp = *p.speedKmh;
        l << ' ';
        if (sp == std::floor(sp))
            l.number(qint64(sp));
        else
            l.fixed(sp, 2);
        l << " km/h";
    }
    l << (p.valid ? " valid"_L1 : " invalid"_L1);
    if (p.satellites) {
        l << ' ';
        l.number(*p.satellites) << " sats";
    }
}

void alarmDisplay(Line &l, const QString &name) {
    if (name == QLatin1String("sos")) {
        l << "SOS";
        return;
    }
    // camelCase -> "Power cut" (the names are ASCII; other text goes through QChar)
    for (int i = 0; i < name.size(); ++i) {
        const char16_t ch = name[i].unicode();
        if (ch < 0x80) {
            const bool upper = ch >= 'A' && ch <= 'Z';
            if (upper && i > 0)
                l << ' ' << char(ch + ('a' - 'A'));
            else if (i == 0 && ch >= 'a' && ch <= 'z')
                l << char(ch - ('a' - 'A'));
            else
                l << char(ch);
        } else if (name[i].isUpper() && i > 0) {
            l << ' ' << name[i].toLower();
        } else {
            l << (i == 0 ? name[i].toUpper() : name[i]);
        }
    }
}

// Appends "battery 50 %, ACC on, ..." (nothing when the status says nothing).
void statusSummary(Line &l, const Status &s) {
    bool first = true;
    auto sep = [&]() -> Line & {
        if (!first)
            l << ", ";
        first = false;
        return l;
    };
    if (s.batteryPercent) {
        sep() << "battery ";
        l.number(*s.batteryPercent) << " %";
    }
    if (s.batteryVolts)
        sep().fixed(*s.batteryVolts, 2) << " V";
    if (s.gsmSignal) {
        sep() << "GSM ";
        l.number(*s.gsmSignal);
    }
    if (s.charging && *s.charging)
        sep() << "charging";
    if (s.acc)
        sep() << (*s.acc ? "ACC on"_L1 : "ACC off"_L1);
    if (s.armed && *s.armed)
        sep() << "armed";
}

bool statusSaysSomething(const Status &s) {
    return s.batteryPercent || s.batteryVolts || s.gsmSignal || (s.charging && *s.charging) || s.acc
           || (s.armed && *s.armed);
}

// Appends t.simplified(), cut to 57 characters + "..." when longer than 60 (without
// building the simplified copy).
void shortText(Line &l, QStringView t) {
    char16_t buf[61];
    int n = 0;
    bool space = false;
    for (const QChar ch : t) {
        if (ch.isSpace()) {
            space = n > 0;
            continue;
        }
        if (space) {
            buf[n++] = u' ';
            space = false;
            if (n == 61)
                break;
        }
        buf[n++] = ch.unicode();
        if (n == 61)
            break;
    }
    if (n > 60)
        l << QStringView(buf, 57) << "...";
    else
        l << QStringView(buf, n);
}

} // namespace

QString summaryOf(const DecodedFrame &f) {
    const Message &m = f.message;
    Line l;
    switch (m.kind) {
    case MessageKind::Login:
        l << "IMEI " << m.deviceId;
        if (m.timeZoneMinutes)
            l << ", " << fmtOffset(*m.timeZoneMinutes);
        break;
    case MessageKind::Position:
    case MessageKind::Lbs:
        if (m.positions.isEmpty())
            return f.typeName;
        positionSummary(l, m.positions.first());
        break;
    case MessageKind::Alarm:
        if (m.alarms.isEmpty()) {
            l << f.typeName;
        } else {
            for (qsizetype i = 0; i < m.alarms.size(); ++i) {
                if (i)
                    l << ", ";
                alarmDisplay(l, m.alarms[i]);
            }
            l << " alarm";
        }
        if (!m.positions.isEmpty() && m.positions.first().hasCoordinates) {
            l << " at ";
            positionSummary(l, m.positions.first());
        }
        break;
    case MessageKind::Heartbeat:
    case MessageKind::Status:
        if (!m.status || !statusSaysSomething(*m.status))
            return f.typeName;
        l << f.typeName << ": ";
        statusSummary(l, *m.status);
        break;
    case MessageKind::CommandReply:
        l << "reply \"";
        shortText(l, m.text);
        l << '"';
        break;
    case MessageKind::TimeRequest:
        return QStringLiteral("time request");
    case MessageKind::Information:
        if (m.text.isEmpty() && m.status && statusSaysSomething(*m.status)) {
            l << f.typeName << ": ";
            statusSummary(l, *m.status);
            break;
        }
        if (m.text.isEmpty())
            return f.typeName;
        l << f.typeName << ": ";
        shortText(l, m.text);
        break;
    case MessageKind::Downlink:
        if (m.text.isEmpty())
            return f.typeName;
        l << f.typeName << " \"";
        shortText(l, m.text);
        l << '"';
        break;
    case MessageKind::Unknown:
        l << "unknown type " << hexByte(f.type);
        break;
    default:
        return f.typeName;
    }
    return l.toString();
}

} // namespace detail

QString alarmName(int code, const QString &model) {
    const bool anyModel = !model.isEmpty();   // the usual case: no model override, no string compares
    const bool vl = anyModel && detail::isVlModel(model);
    const bool lw = anyModel && model.startsWith(QLatin1String("LW"), Qt::CaseInsensitive);
    const bool seeworld = anyModel && model.compare(QLatin1String("SEEWORLD"), Qt::CaseInsensitive) == 0;
    const bool trx = anyModel && model.compare(QLatin1String("TRX16I"), Qt::CaseInsensitive) == 0;
    switch (code) {   // model-specific readings first (fact sheet section 7)
    case 0x09:
        if (vl) return QStringLiteral("tow");
        if (trx) return QStringLiteral("geofence");
        break;
    case 0x0E:
        if (trx) return QStringLiteral("lowPower");
        break;
    case 0x18:
        if (lw) return QStringLiteral("accident");
        break;
    case 0x19:
        if (lw) return QStringLiteral("hardAcceleration");
        break;
    case 0x28:
        if (seeworld) return QStringLiteral("hardCornering");
        if (vl) return QStringLiteral("powerOff");
        break;
    case 0x29:
        if (seeworld) return QStringLiteral("accident");
        break;
    case 0x30:
        if (vl) return QStringLiteral("hardBraking");
        break;
    default:
        break;
    }
    for (const detail::AlarmCode &a : detail::kAlarms)
        if (a.code == code)
            return detail::staticText(a.name);
    return {};
}

} // namespace td::proto::gt06
