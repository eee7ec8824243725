// JT/T 808: framing, header, message catalogue, replies, stream session, encoders.
// Location reports and their additional items live in jt808_location.cpp.
#include "jt808_p.h"

#include <QMap>
#include <QStringDecoder>
#include <QStringEncoder>
#include <QTimeZone>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace td::proto::jt808 {

namespace detail {

// ---------------------------------------------------------------- helpers

bool Cursor::need(int n, const QString &what) {
    if (left() >= n)
        return true;
    if (!m_failed) {
        if (left() > 0) {
            Field &f = add(left(), QStringLiteral("Truncated"), annotate() ? hex(ctx.b.mid(m_pos, left())) : QString());
            f.warning = QStringLiteral("%1 needs %2 bytes").arg(what).arg(n);
        }
        ctx.frame.warnings << QStringLiteral("too short: %1 needs %2 bytes, %3 left").arg(what).arg(n).arg(qMax(0, m_end - m_pos));
    }
    m_failed = true;
    return false;
}

Field &Cursor::add(int n, const QString &name, const QString &value) {
    m_pos += n;
    if (!annotate()) {
        m_scratch.name = name;
        m_scratch.warning.clear();
        m_scratch.children.clear();
        return m_scratch;
    }
    parent.add(makeField(m_pos - n, n, name, value));
    return parent.children.last();
}

void Cursor::rest(const QString &name, const QString &value) {
    if (left() > 0)
        add(left(), name, value);
}

QString hex(const QByteArray &bytes) { return QString::fromLatin1(bytes.toHex()); }

bool isPrintableAscii(const QByteArray &bytes) {
    for (char ch : bytes) {
        const auto c = quint8(ch);
        if ((c < 0x20 || c > 0x7E) && c != '\r' && c != '\n' && c != '\t')
            return false;
    }
    return true;
}

QString textOrHex(const QByteArray &bytes) {
    const QByteArray t = trimPadding(bytes);
    if (!t.isEmpty() && isPrintableAscii(t))
        return QLatin1Char('\'') + QString::fromLatin1(t).trimmed() + QLatin1Char('\'');
    return hex(bytes);
}

QByteArray trimPadding(const QByteArray &bytes) {
    int a = 0, b = int(bytes.size());
    while (a < b && (bytes[a] == '\0' || quint8(bytes[a]) == 0xFF))
        ++a;
    while (b > a && (bytes[b - 1] == '\0' || quint8(bytes[b - 1]) == 0xFF))
        --b;
    return bytes.mid(a, b - a);
}

namespace {
bool isAscii(const QByteArray &bytes) {
    for (char c : bytes)
        if (quint8(c) > 0x7F)
            return false;
    return true;
}
} // namespace

QString decodeGbk(const QByteArray &bytes) {
    if (isAscii(bytes))   // GBK is ASCII-compatible; opening the ICU converter is costly
        return QString::fromLatin1(bytes);
    QStringDecoder d("GBK");
    if (!d.isValid())
        return QString::fromLatin1(bytes);
    QString s = d(bytes);
    if (d.hasError())
        return QString::fromLatin1(bytes);
    return s;
}

QByteArray encodeGbk(const QString &text) {
    bool ascii = true;
    for (QChar c : text)
        ascii = ascii && c.unicode() < 0x80;
    if (ascii)
        return text.toLatin1();
    QStringEncoder e("GBK");
    if (!e.isValid())
        return text.toLatin1();
    return e(text);
}

QString hexWord(quint32 v, int digits) { return QStringLiteral("0x%1").arg(v, digits, 16, QLatin1Char('0')); }

QString bcdDigits(const QByteArray &bytes, bool *ok) {
    // Two characters per byte written in place (the terminal id of every frame goes here).
    QString s(bytes.size() * 2, Qt::Uninitialized);
    char16_t *o = reinterpret_cast<char16_t *>(s.data());
    bool good = true;
    for (char ch : bytes) {
        const int hi = quint8(ch) >> 4, lo = quint8(ch) & 0x0F;
        good = good && hi < 10 && lo < 10;
        *o++ = char16_t("0123456789abcdef"[hi]);
        *o++ = char16_t("0123456789abcdef"[lo]);
    }
    if (ok)
        *ok = good;
    return s;
}

QDateTime bcdDateTime(const QByteArray &bcd6) {
    if (bcd6.size() != 6)
        return {};
    int v[6];
    for (int i = 0; i < 6; ++i) {   // no string round trip: this is on every location report
        const int b = quint8(bcd6[i]);
        if ((b >> 4) > 9 || (b & 15) > 9)
            return {};
        v[i] = (b >> 4) * 10 + (b & 15);
    }
    const QDate d(2000 + v[0], v[1], v[2]);
    const QTime tm(v[3], v[4], v[5]);
    if (!d.isValid() || !tm.isValid())
        return {};
    return QDateTime(d, tm, QTimeZone::UTC);
}

QByteArray toBcd(const QString &digits) {
    QByteArray out;
    for (int i = 0; i + 1 < digits.size(); i += 2)
        out.append(char((digits[i].digitValue() << 4) | digits[i + 1].digitValue()));
    return out;
}

QString formatOffset(int minutes) {
    const int a = qAbs(minutes);
    return QStringLiteral("UTC%1%2:%3").arg(minutes < 0 ? QLatin1Char('-') : QLatin1Char('+'))
        .arg(a / 60, 2, 10, QLatin1Char('0')).arg(a % 60, 2, 10, QLatin1Char('0'));
}

QString formatTime(const QDateTime &t) {
    const QDate d = t.date();
    const QTime tm = t.time();
    const int y = d.year();
    if (y < 0 || y > 9999)
        return t.toString(Qt::ISODate);
    char buf[19];
    auto two = [&](int at, int v) { buf[at] = char('0' + v / 10 % 10); buf[at + 1] = char('0' + v % 10); };
    two(0, y / 100);
    two(2, y % 100);
    buf[4] = '-';
    two(5, d.month());
    buf[7] = '-';
    two(8, d.day());
    buf[10] = ' ';
    two(11, tm.hour());
    buf[13] = ':';
    two(14, tm.minute());
    buf[16] = ':';
    two(17, tm.second());
    return QString::fromLatin1(buf, 19);
}

QString hexByte(int v) {
    static const char digits[] = "0123456789abcdef";
    const char buf[4] = {'0', 'x', digits[(v >> 4) & 15], digits[v & 15]};
    return QString::fromLatin1(buf, 4);
}

QString describeDeviceTime(const QDateTime &local, int tzMinutes, const QDateTime &utc) {
    if (tzMinutes == 0)
        return formatTime(utc) + QStringLiteral(" UTC");
    return formatTime(local) + QStringLiteral(" (") + formatOffset(tzMinutes) + QStringLiteral(") = ")
         + formatTime(utc) + QStringLiteral(" UTC");
}

namespace {

quint16 rd16(const QByteArray &b, int o) { return quint16((quint8(b[o]) << 8) | quint8(b[o + 1])); }
void put16(QByteArray &b, quint16 v) { b.append(char(v >> 8)); b.append(char(v & 0xFF)); }
void put32(QByteArray &b, quint32 v) { put16(b, quint16(v >> 16)); put16(b, quint16(v)); }
QByteArray fixedField(const QByteArray &s, int n) {
    QByteArray out = s.left(n);
    out.append(QByteArray(n - out.size(), '\0'));
    return out;
}

// ---------------------------------------------------------------- header

struct Header {
    quint16 id = 0;
    quint16 props = 0;
    int declaredBodyLength = 0;
    int encryption = 0;
    bool flag2019 = false;      // bit 14 as sent
    bool v2019 = false;         // layout actually used
    bool forced2013 = false;    // bit 14 with a 2013 header
    bool subpackaged = false;
    bool shortSerial = false;   // vendor 0x5501/0x5502
    quint8 version = 0;
    QByteArray terminal;
    int serial = -1;
    int packageTotal = 0;
    int packageIndex = 0;
    int length = 12;            // header bytes

    Terminal replyTo() const { return Terminal{terminal, v2019, version}; }
};

int headerLength(bool v2019, bool shortSerial, bool sub) {
    return (v2019 ? 17 : shortSerial ? 11 : 12) + (sub ? 4 : 0);
}

// Chooses the header layout of an unescaped frame content (without flags, >= 4 bytes).
Header parseHeader(const QByteArray &c) {
    Header h;
    h.id = rd16(c, 0);
    h.props = rd16(c, 2);
    h.declaredBodyLength = h.props & 0x3FF;
    h.shortSerial = h.id == msg::VendorLocation || h.id == msg::VendorBlindLocation;
    if (!h.shortSerial) {
        h.encryption = (h.props >> 10) & 7;
        h.subpackaged = h.props & 0x2000;
        h.flag2019 = h.props & 0x4000;
    }
    h.v2019 = h.flag2019;
    if (h.flag2019) {
        const int as2019 = headerLength(true, false, h.subpackaged) + h.declaredBodyLength + 1;
        const int as2013 = headerLength(false, false, h.subpackaged) + h.declaredBodyLength + 1;
        if (c.size() != as2019 && c.size() == as2013) {
            h.v2019 = false;
            h.forced2013 = true;
        }
    }
    h.length = headerLength(h.v2019, h.shortSerial, h.subpackaged);
    const int idOff = h.v2019 ? 5 : 4;
    const int idLen = h.v2019 ? 10 : 6;
    if (h.v2019 && c.size() > 4)
        h.version = quint8(c[4]);
    if (c.size() >= idOff + idLen)
        h.terminal = c.mid(idOff, idLen);
    const int serialOff = idOff + idLen;
    if (h.shortSerial && c.size() > serialOff)
        h.serial = quint8(c[serialOff]);
    else if (!h.shortSerial && c.size() >= serialOff + 2)
        h.serial = rd16(c, serialOff);
    if (h.subpackaged && c.size() >= serialOff + 6) {
        h.packageTotal = rd16(c, serialOff + 2);
        h.packageIndex = rd16(c, serialOff + 4);
    }
    return h;
}

// ---------------------------------------------------------------- message catalogue

enum class Reply { None, General, Register, TimeSync, ServerTime };
using BodyFn = void (*)(Ctx &, Cursor &);

struct MessageSpec {
    quint16 id;
    const char *name;
    MessageKind kind;
    Reply reply;
    BodyFn decode;
};

QString messageName(quint16 id);

// -- shared body pieces

void bodyNone(Ctx &, Cursor &c) {
    if (c.left() > 0)
        c.rest(QStringLiteral("Vendor data"), textOrHex(c.bytes(c.left())));
}

void bodyRaw(Ctx &, Cursor &c) { c.rest(QStringLiteral("Data"), textOrHex(c.bytes(c.left()))); }

QString resultName(quint16 ackId, int r) {
    static const char *const kResults[] = {"ok", "failure", "message error", "not supported", "alarm handling confirmed"};
    if (ackId == msg::RegisterResponse) {
        static const char *const kReg[] = {"ok", "vehicle already registered", "vehicle not in database",
                                           "terminal already registered", "terminal not in database"};
        return r < 5 ? QLatin1String(kReg[r]) : QStringLiteral("unknown (%1)").arg(r);
    }
    return r < 5 ? QLatin1String(kResults[r]) : QStringLiteral("unknown (%1)").arg(r);
}

void bodyAck(Ctx &ctx, Cursor &c) {
    if (!c.need(5, QStringLiteral("general response (5 bytes)")))
        return;
    const int serial = c.u16(c.pos());
    const quint16 id = c.u16(c.pos() + 2);
    const int r = c.u8(c.pos() + 4);
    c.add(2, QStringLiteral("Ack serial"), QString::number(serial));
    c.add(2, QStringLiteral("Ack message ID"), QStringLiteral("%1 (%2)").arg(hexWord(id), messageName(id)));
    c.add(1, QStringLiteral("Result"), QStringLiteral("%1 (%2)").arg(r).arg(resultName(0, r)));
    bodyNone(ctx, c);
    ctx.frame.summary = QStringLiteral("ack of %1 serial %2: %3").arg(hexWord(id)).arg(serial).arg(resultName(0, r));
}

QString fixedText(const QByteArray &raw) {
    const QByteArray t = trimPadding(raw);
    if (t.isEmpty())
        return QStringLiteral("(empty)");
    return isPrintableAscii(t) ? QLatin1Char('\'') + QString::fromLatin1(t) + QLatin1Char('\'') : hex(raw);
}

void bodyRegister(Ctx &ctx, Cursor &c) {
    // 2011: 5/8/7 bytes, 2013: 5/20/7, 2019: 11/30/30 (maker/model/terminal id).
    int maker = 5, model = 20, termId = 7;
    QString layout = QStringLiteral("2013");
    const int n = c.left();
    if (ctx.v2019) {
        maker = 11; model = 30; termId = 30;
        layout = QStringLiteral("2019");
    } else {
        auto colorOk = [&](int at) {
            if (at >= n)
                return false;
            const int v = c.u8(c.pos() + at);
            return v <= 5 || v == 9;
        };
        if (!(n >= 37 && colorOk(36)) && n >= 25 && colorOk(24)) {
            model = 8;
            layout = QStringLiteral("2011");
        }
    }
    const int fixed = 4 + maker + model + termId + 1;
    if (!c.need(fixed, QStringLiteral("%1 register body").arg(layout)))
        return;
    const int o = c.pos();
    c.add(2, QStringLiteral("Province ID"), QString::number(c.u16(o)));
    c.add(2, QStringLiteral("City/county ID"), QString::number(c.u16(o + 2)));
    const QString makerText = fixedText(c.bytes(maker));
    c.add(maker, QStringLiteral("Manufacturer ID"), makerText);
    const QByteArray modelRaw = trimPadding(c.bytes(model));
    c.add(model, QStringLiteral("Terminal model"), fixedText(c.bytes(model)));
    c.add(termId, QStringLiteral("Terminal ID"), fixedText(c.bytes(termId)));
    const int color = c.u8(c.pos());
    static const QMap<int, QString> kColors = {{0, QStringLiteral("no plate (VIN follows)")}, {1, QStringLiteral("blue")},
        {2, QStringLiteral("yellow")}, {3, QStringLiteral("black")}, {4, QStringLiteral("white")}, {9, QStringLiteral("other")}};
    c.add(1, QStringLiteral("Plate colour"), QStringLiteral("%1 (%2)").arg(color).arg(kColors.value(color, QStringLiteral("unknown"))));
    QString plate;
    if (c.left() > 0) {
        const QByteArray raw = trimPadding(c.bytes(c.left()));
        plate = decodeGbk(raw);
        c.add(c.left(), color == 0 ? QStringLiteral("VIN") : QStringLiteral("Plate"),
              raw.isEmpty() ? QStringLiteral("(empty)") : QLatin1Char('\'') + plate + QLatin1Char('\''));
    }
    ctx.frame.message.model = isPrintableAscii(modelRaw) ? QString::fromLatin1(modelRaw).trimmed() : QString();
    ctx.frame.summary = QStringLiteral("register %1 (%2 layout)").arg(ctx.frame.message.deviceId, layout);
    if (!ctx.frame.message.model.isEmpty())
        ctx.frame.summary += QStringLiteral(", model ") + ctx.frame.message.model;
    if (!plate.isEmpty())
        ctx.frame.summary += QStringLiteral(", plate ") + plate;
}

void bodyAuth(Ctx &ctx, Cursor &c) {
    const int n = c.left();
    QByteArray code;
    if (ctx.v2019 && n >= 1 && 1 + c.u8(c.pos()) + 15 + 20 == n) {
        const int len = c.u8(c.pos());
        c.add(1, QStringLiteral("Auth code length"), QString::number(len));
        code = c.bytes(len);
        c.add(len, QStringLiteral("Auth code"), QLatin1Char('\'') + decodeGbk(code) + QLatin1Char('\''));
        c.add(15, QStringLiteral("IMEI"), fixedText(c.bytes(15)));
        c.add(20, QStringLiteral("Software version"), fixedText(c.bytes(20)));
    } else {
        code = c.bytes(n);
        if (n > 0)
            c.add(n, QStringLiteral("Auth code"), QLatin1Char('\'') + decodeGbk(code) + QLatin1Char('\''));
    }
    ctx.frame.message.authCode = decodeGbk(code);
    ctx.frame.summary = QStringLiteral("auth code '%1'").arg(ctx.frame.message.authCode);
}

// -- parameters (0x8103 / 0x0104)

struct ParamSpec {
    quint32 id;
    const char *name;
    const char *unit;   // nullptr: text value
};
constexpr ParamSpec kParams[] = {
    {0x0001, "Heartbeat interval", "s"},
    {0x0002, "TCP reply timeout", "s"},
    {0x0003, "TCP retransmissions", ""},
    {0x0004, "UDP reply timeout", "s"},
    {0x0005, "UDP retransmissions", ""},
    {0x0006, "SMS reply timeout", "s"},
    {0x0007, "SMS retransmissions", ""},
    {0x0010, "APN", nullptr},
    {0x0011, "APN user", nullptr},
    {0x0012, "APN password", nullptr},
    {0x0013, "Main server address", nullptr},
    {0x0014, "Backup APN", nullptr},
    {0x0015, "Backup APN user", nullptr},
    {0x0016, "Backup APN password", nullptr},
    {0x0017, "Backup server address", nullptr},
    {0x0018, "TCP port", ""},
    {0x0019, "UDP port", ""},
    {0x0020, "Report strategy (0 time, 1 distance, 2 both)", ""},
    {0x0021, "Report scheme", ""},
    {0x0022, "Report interval, driver not logged in", "s"},
    {0x0027, "Report interval while sleeping", "s"},
    {0x0028, "Report interval in emergency", "s"},
    {0x0029, "Default report interval", "s"},
    {0x002C, "Default report distance", "m"},
    {0x002D, "Report distance, driver not logged in", "m"},
    {0x002E, "Report distance while sleeping", "m"},
    {0x002F, "Report distance in emergency", "m"},
    {0x0030, "Turn angle for an extra report", "°"},
    {0x0055, "Maximum speed", "km/h"},
    {0x0056, "Overspeed duration", "s"},
    {0x0080, "Odometer", "x 0.1 km"},
};

const ParamSpec *findParam(quint32 id) {
    for (const ParamSpec &p : kParams)
        if (p.id == id)
            return &p;
    return nullptr;
}

QString paramValue(const ParamSpec *spec, const QByteArray &v) {
    const bool numeric = spec ? spec->unit != nullptr : (v.size() == 1 || v.size() == 2 || v.size() == 4);
    if (numeric && (v.size() == 1 || v.size() == 2 || v.size() == 4)) {
        quint32 n = 0;
        for (char ch : v)
            n = (n << 8) | quint8(ch);
        const QString unit = spec && spec->unit && *spec->unit ? QLatin1Char(' ') + QString::fromUtf8(spec->unit) : QString();
        return QString::number(n) + unit;
    }
    if (spec && !spec->unit)
        return QLatin1Char('\'') + decodeGbk(trimPadding(v)) + QLatin1Char('\'');
    return textOrHex(v);
}

void decodeParameterList(Ctx &ctx, Cursor &c, int count) {
    int seen = 0;
    QStringList names;
    while (c.left() > 0) {
        if (!c.need(5, QStringLiteral("parameter %1 header").arg(seen + 1)))
            return;
        const quint32 id = c.u32(c.pos());
        const int len = c.u8(c.pos() + 4);
        if (len > c.left() - 5) {
            Field &f = c.add(c.left(), QStringLiteral("Truncated parameter"), hex(c.bytes(c.left())));
            f.warning = QStringLiteral("declares %1 value bytes").arg(len);
            ctx.frame.warnings << QStringLiteral("parameter %1 runs past the end of the body").arg(hexWord(id));
            return;
        }
        const ParamSpec *spec = findParam(id);
        const QByteArray v = ctx.b.mid(c.pos() + 5, len);
        const QString name = spec ? QLatin1String(spec->name) : QStringLiteral("Parameter %1").arg(hexWord(id));
        const QString value = paramValue(spec, v);
        const int at = c.pos();
        Field &f = c.add(5 + len, name, value);
        f.add(makeField(at, 4, QStringLiteral("Parameter ID"), hexWord(id, 8)));
        f.add(makeField(at + 4, 1, QStringLiteral("Length"), QString::number(len)));
        if (len > 0)
            f.add(makeField(at + 5, len, QStringLiteral("Value"), value));
        names << QStringLiteral("%1=%2").arg(hexWord(id), value);
        ++seen;
    }
    if (seen != count)
        ctx.frame.warnings << QStringLiteral("parameter count says %1, the body holds %2").arg(count).arg(seen);
    ctx.frame.summary = names.join(QStringLiteral(", "));
}

void bodySetParameters(Ctx &ctx, Cursor &c) {
    if (!c.need(1, QStringLiteral("parameter count")))
        return;
    const int count = c.u8(c.pos());
    c.add(1, QStringLiteral("Parameter count"), QString::number(count));
    decodeParameterList(ctx, c, count);
}

void bodyParameterQueryResponse(Ctx &ctx, Cursor &c) {
    if (!c.need(3, QStringLiteral("parameter query response header")))
        return;
    c.add(2, QStringLiteral("Response serial"), QString::number(c.u16(c.pos())));
    const int count = c.u8(c.pos());
    c.add(1, QStringLiteral("Parameter count"), QString::number(count));
    decodeParameterList(ctx, c, count);
}

void bodyTerminalControl(Ctx &ctx, Cursor &c) {
    static const char *const kCommands[] = {"", "wireless upgrade", "connect to a given server", "power off",
                                            "reset", "factory reset", "close data link", "close all radio links"};
    if (!c.need(1, QStringLiteral("command word")))
        return;
    const int cmd = c.u8(c.pos());
    const QString name = cmd >= 1 && cmd <= 7 ? QLatin1String(kCommands[cmd])
                                               : QStringLiteral("vendor command");
    c.add(1, QStringLiteral("Command"), QStringLiteral("%1 (%2)").arg(hexWord(cmd, 2), name));
    if (c.left() > 0)
        c.rest(QStringLiteral("Parameters"), textOrHex(c.bytes(c.left())));
    ctx.frame.summary = QStringLiteral("terminal control %1 (%2)").arg(hexWord(cmd, 2), name);
}

void bodyTextMessage(Ctx &ctx, Cursor &c) {
    if (!c.need(1, QStringLiteral("text flag")))
        return;
    const int flag = c.u8(c.pos());
    {
        Field &f = c.add(1, QStringLiteral("Flag"), hexWord(flag, 2));
        static const char *const kBits[] = {"urgent", nullptr, "show on display", "TTS read-out", "advertising screen",
                                            "CAN fault code (else navigation info)"};
        for (int bit = 0; bit < 6; ++bit)
            if (kBits[bit])
                f.add(makeField(f.offset, 1, QStringLiteral("Bit %1: %2").arg(bit).arg(QLatin1String(kBits[bit])),
                                (flag & (1 << bit)) ? QStringLiteral("yes") : QStringLiteral("no")));
    }
    if (ctx.v2019 && c.left() > 0) {
        const int t = c.u8(c.pos());
        c.add(1, QStringLiteral("Text type"), t == 1 ? QStringLiteral("1 (notice)") : t == 2 ? QStringLiteral("2 (service)")
                                                                                            : QString::number(t));
    }
    const QString text = decodeGbk(c.bytes(c.left()));
    if (c.left() > 0)
        c.add(c.left(), QStringLiteral("Text"), QLatin1Char('\'') + text + QLatin1Char('\''));
    ctx.frame.message.text = text;
    ctx.frame.summary = QStringLiteral("text '%1'").arg(text);
}

void bodyRegisterResponse(Ctx &ctx, Cursor &c) {
    if (!c.need(3, QStringLiteral("register response")))
        return;
    const int serial = c.u16(c.pos());
    const int r = c.u8(c.pos() + 2);
    c.add(2, QStringLiteral("Ack serial"), QString::number(serial));
    c.add(1, QStringLiteral("Result"), QStringLiteral("%1 (%2)").arg(r).arg(resultName(msg::RegisterResponse, r)));
    if (c.left() > 0) {
        ctx.frame.message.authCode = decodeGbk(c.bytes(c.left()));
        c.add(c.left(), QStringLiteral("Auth code"), QLatin1Char('\'') + ctx.frame.message.authCode + QLatin1Char('\''));
    }
    ctx.frame.summary = QStringLiteral("register ack serial %1: %2").arg(serial).arg(resultName(msg::RegisterResponse, r));
    if (!ctx.frame.message.authCode.isEmpty())
        ctx.frame.summary += QStringLiteral(", auth code '%1'").arg(ctx.frame.message.authCode);
}

void bodyTimeSyncResponse(Ctx &ctx, Cursor &c) {
    if (!c.need(7, QStringLiteral("time (7 bytes)")))
        return;
    const int o = c.pos();
    const QDate d(c.u16(o), c.u8(o + 2), c.u8(o + 3));
    const QTime t(c.u8(o + 4), c.u8(o + 5), c.u8(o + 6));
    const QDateTime dt(d, t, QTimeZone::UTC);
    Field &f = c.add(7, QStringLiteral("UTC time"));
    f.add(makeField(o, 2, QStringLiteral("Year"), QString::number(c.u16(o))));
    f.add(makeField(o + 2, 1, QStringLiteral("Month"), QString::number(c.u8(o + 2))));
    f.add(makeField(o + 3, 1, QStringLiteral("Day"), QString::number(c.u8(o + 3))));
    f.add(makeField(o + 4, 1, QStringLiteral("Hour"), QString::number(c.u8(o + 4))));
    f.add(makeField(o + 5, 1, QStringLiteral("Minute"), QString::number(c.u8(o + 5))));
    f.add(makeField(o + 6, 1, QStringLiteral("Second"), QString::number(c.u8(o + 6))));
    if (dt.isValid()) {
        f.value = formatTime(dt) + QStringLiteral(" UTC");
    } else {
        f.value = hex(c.ctx.b.mid(o, 7));
        f.warning = QStringLiteral("not a valid date/time");
    }
    const QString shown = f.value;
    if (c.left() > 0)
        c.add(1, QStringLiteral("Result"), QString::number(c.u8(c.pos())));
    else
        c.parent.value = QStringLiteral("no result byte (pre-2026 Traccar layout)");
    bodyNone(ctx, c);
    ctx.frame.summary = QStringLiteral("time %1").arg(shown);
}

void bodyServerTime(Ctx &ctx, Cursor &c) {
    if (!c.need(6, QStringLiteral("BCD time")))
        return;
    const QDateTime dt = bcdDateTime(c.bytes(6));
    Field &f = c.add(6, QStringLiteral("UTC time"));
    if (dt.isValid()) {
        f.value = formatTime(dt) + QStringLiteral(" UTC");
    } else {
        f.value = hex(ctx.b.mid(f.offset, 6));
        f.warning = QStringLiteral("not a valid BCD date/time");
    }
    const QString v = f.value;
    bodyNone(ctx, c);
    ctx.frame.summary = QStringLiteral("server time %1").arg(v);
}

void bodyResendRequest(Ctx &ctx, Cursor &c) {
    const int countBytes = ctx.v2019 ? 2 : 1;
    if (!c.need(2 + countBytes, QStringLiteral("re-send request header")))
        return;
    c.add(2, QStringLiteral("Original serial"), QString::number(c.u16(c.pos())));
    const int count = countBytes == 2 ? c.u16(c.pos()) : c.u8(c.pos());
    c.add(countBytes, QStringLiteral("Package count"), QString::number(count));
    QStringList ids;
    while (c.left() >= 2) {
        ids << QString::number(c.u16(c.pos()));
        c.add(2, QStringLiteral("Package ID"), ids.last());
    }
    bodyNone(ctx, c);
    ctx.frame.summary = QStringLiteral("re-send packages %1").arg(ids.join(QStringLiteral(", ")));
}

void bodyAttributes(Ctx &ctx, Cursor &c) {
    const int maker = 5, model = ctx.v2019 ? 30 : 20, termId = ctx.v2019 ? 30 : 7;
    if (!c.need(2 + maker + model + termId + 10, QStringLiteral("terminal attributes")))
        return;
    c.add(2, QStringLiteral("Terminal type"), hexWord(c.u16(c.pos())));
    c.add(maker, QStringLiteral("Manufacturer ID"), fixedText(c.bytes(maker)));
    c.add(model, QStringLiteral("Terminal model"), fixedText(c.bytes(model)));
    c.add(termId, QStringLiteral("Terminal ID"), fixedText(c.bytes(termId)));
    QString iccid = hex(c.bytes(10));
    c.add(10, QStringLiteral("ICCID"), iccid);
    for (const QString &what : {QStringLiteral("Hardware version"), QStringLiteral("Firmware version")}) {
        if (c.left() < 1)
            break;
        const int len = c.u8(c.pos());
        if (len + 1 > c.left())
            break;
        const int at = c.pos();
        Field &f = c.add(1 + len, what, fixedText(ctx.b.mid(at + 1, len)));
        f.add(makeField(at, 1, QStringLiteral("Length"), QString::number(len)));
    }
    if (c.left() >= 2) {
        c.add(1, QStringLiteral("GNSS module attributes"), hexWord(c.u8(c.pos()), 2));
        c.add(1, QStringLiteral("Communication module attributes"), hexWord(c.u8(c.pos()), 2));
    }
    if (c.left() > 0)
        c.rest(QStringLiteral("Undecoded"), hex(c.bytes(c.left())));
    ctx.frame.summary = QStringLiteral("ICCID %1").arg(iccid);
}

void bodyWaybill(Ctx &ctx, Cursor &c) {
    if (!c.need(4, QStringLiteral("waybill length")))
        return;
    const quint32 len = c.u32(c.pos());
    c.add(4, QStringLiteral("Length"), QString::number(len));
    const QByteArray content = c.bytes(c.left());
    ctx.frame.message.text = decodeGbk(content).trimmed();
    if (c.left() > 0)
        c.add(c.left(), QStringLiteral("Content"), textOrHex(content));
    if (len != quint32(content.size()))
        ctx.frame.warnings << QStringLiteral("waybill says %1 bytes, the body holds %2").arg(len).arg(content.size());
    ctx.frame.summary = QStringLiteral("'%1'").arg(ctx.frame.message.text);
}

void bodyDriverIdentity(Ctx &ctx, Cursor &c) {
    if (!c.need(7, QStringLiteral("driver identity header")))
        return;
    const int status = c.u8(c.pos());
    c.add(1, QStringLiteral("Status"), status == 1 ? QStringLiteral("1 (card inserted)")
                                       : status == 2 ? QStringLiteral("2 (card removed)") : QString::number(status));
    const QDateTime t = bcdDateTime(c.bytes(6));
    c.add(6, QStringLiteral("Time"), t.isValid() ? formatTime(t) + QStringLiteral(" (device time)")
                                                 : hex(c.bytes(6)));
    ctx.frame.summary = status == 2 ? QStringLiteral("card removed") : QStringLiteral("card inserted");
    if (status != 1 || c.left() < 1) {
        bodyNone(ctx, c);
        return;
    }
    const int read = c.u8(c.pos());
    c.add(1, QStringLiteral("IC card read result"), read == 0 ? QStringLiteral("0 (ok)") : QString::number(read));
    if (read != 0) {
        bodyNone(ctx, c);
        return;
    }
    if (!c.need(1, QStringLiteral("driver name length")))
        return;
    const int nameLen = c.u8(c.pos());
    c.add(1, QStringLiteral("Driver name length"), QString::number(nameLen));
    if (!c.need(nameLen + 20 + 1, QStringLiteral("driver name and certificate")))
        return;
    if (nameLen > 0)
        c.add(nameLen, QStringLiteral("Driver name"), QLatin1Char('\'') + decodeGbk(c.bytes(nameLen)) + QLatin1Char('\''));
    const QString cert = QString::fromLatin1(trimPadding(c.bytes(20)));
    c.add(20, QStringLiteral("Qualification certificate code"), fixedText(c.bytes(20)));
    const int agencyLen = c.u8(c.pos());
    c.add(1, QStringLiteral("Issuing agency length"), QString::number(agencyLen));
    if (!c.need(agencyLen, QStringLiteral("issuing agency")))
        return;
    if (agencyLen > 0)
        c.add(agencyLen, QStringLiteral("Issuing agency"), QLatin1Char('\'') + decodeGbk(c.bytes(agencyLen)) + QLatin1Char('\''));
    if (c.left() >= 4) {
        bool ok = false;
        const QString d = bcdDigits(c.bytes(4), &ok);
        c.add(4, QStringLiteral("Certificate valid until"), ok ? d : hex(c.bytes(4)));
    }
    bodyNone(ctx, c);
    ctx.frame.summary += QStringLiteral(", certificate %1").arg(cert);
}

void bodyTransparent(Ctx &ctx, Cursor &c) {
    if (!c.need(1, QStringLiteral("transparent message type")))
        return;
    const int type = c.u8(c.pos());
    QString tn;
    switch (type) {
    case 0x00: tn = QStringLiteral("GNSS module data"); break;
    case 0x0B: tn = QStringLiteral("road transport IC card"); break;
    case 0x41: tn = QStringLiteral("serial port 1"); break;
    case 0x42: tn = QStringLiteral("serial port 2"); break;
    default: tn = type >= 0xF0 ? QStringLiteral("user-defined") : QStringLiteral("vendor"); break;
    }
    c.add(1, QStringLiteral("Message type"), QStringLiteral("%1 (%2)").arg(hexWord(type, 2), tn));
    if (c.left() > 0)
        c.rest(QStringLiteral("Data"), textOrHex(c.bytes(c.left())));
    ctx.frame.summary = QStringLiteral("transparent data type %1 (%2)").arg(hexWord(type, 2), tn);
}

void bodyUtf16Text(Ctx &ctx, Cursor &c) {
    if (!c.need(2, QStringLiteral("text reply")))
        return;
    c.add(2, QStringLiteral("Reserved"), hex(c.bytes(2)));
    const QByteArray raw = c.bytes(c.left() & ~1);
    QStringDecoder d(QStringDecoder::Utf16BE);
    const QString text = QString(d(raw)).trimmed();
    if (!raw.isEmpty())
        c.add(int(raw.size()), QStringLiteral("Text (UTF-16BE)"), QLatin1Char('\'') + text + QLatin1Char('\''));
    bodyNone(ctx, c);
    ctx.frame.message.text = text;
    ctx.frame.summary = QStringLiteral("'%1'").arg(text);
}

void bodyVendorText(Ctx &ctx, Cursor &c) {
    if (!c.need(1, QStringLiteral("text reply")))
        return;
    c.add(1, QStringLiteral("Encoding / type"), hexWord(c.u8(c.pos()), 2));
    const QString text = decodeGbk(trimPadding(c.bytes(c.left()))).trimmed();
    if (c.left() > 0)
        c.add(c.left(), QStringLiteral("Text"), QLatin1Char('\'') + text + QLatin1Char('\''));
    ctx.frame.message.text = text;
    ctx.frame.summary = QStringLiteral("'%1'").arg(text);
}

constexpr MessageSpec kMessages[] = {
    // terminal -> platform
    {msg::TerminalResponse, "Terminal general response", MessageKind::GeneralResponse, Reply::None, bodyAck},
    {msg::Heartbeat, "Heartbeat", MessageKind::Heartbeat, Reply::General, bodyNone},
    {msg::Logout, "Terminal logout", MessageKind::Logout, Reply::General, bodyNone},
    {msg::QueryServerTime, "Query server time", MessageKind::TimeRequest, Reply::ServerTime, bodyNone},
    {msg::Register, "Terminal register", MessageKind::Login, Reply::Register, bodyRegister},
    {msg::Authentication, "Terminal authentication", MessageKind::Login, Reply::General, bodyAuth},
    {msg::ParameterQueryResponse, "Parameter query response", MessageKind::CommandReply, Reply::None, bodyParameterQueryResponse},
    {msg::Attributes, "Terminal attributes", MessageKind::Information, Reply::General, bodyAttributes},
    {msg::TimeSyncRequest, "Time sync request (vendor)", MessageKind::TimeRequest, Reply::TimeSync, bodyNone},
    {msg::Location, "Location report", MessageKind::Position, Reply::General, decodeLocationReport},
    {msg::LocationQueryResponse, "Location query response", MessageKind::Position, Reply::None, decodeLocationQueryResponse},
    {msg::VendorLocationBatch, "Location batch (vendor)", MessageKind::Position, Reply::None, decodeVendorLocationBatch},
    {msg::Waybill, "Electronic waybill", MessageKind::CommandReply, Reply::None, bodyWaybill},
    {msg::DriverIdentity, "Driver identity", MessageKind::Information, Reply::None, bodyDriverIdentity},
    {msg::LocationBatch, "Location batch", MessageKind::Position, Reply::General, decodeLocationBatch},
    {msg::Transparent, "Transparent data", MessageKind::Information, Reply::General, bodyTransparent},
    {msg::TimeZoneSync, "Time zone sync (vendor)", MessageKind::Information, Reply::General, bodyRaw},
    {msg::VendorTextUtf16, "Text reply (vendor, UTF-16)", MessageKind::CommandReply, Reply::None, bodyUtf16Text},
    {msg::VendorAccelerometer, "Accelerometer data (vendor)", MessageKind::Information, Reply::None, bodyRaw},
    {msg::VendorLocation, "Location (vendor, JT600 binary)", MessageKind::Position, Reply::None, decodeVendorLocation},
    {msg::VendorBlindLocation, "Blind-area location (vendor, JT600 binary)", MessageKind::Position, Reply::None, decodeVendorLocation},
    {msg::VendorText, "Text reply (vendor)", MessageKind::CommandReply, Reply::General, bodyVendorText},
    // platform -> terminal
    {msg::PlatformResponse, "Platform general response", MessageKind::Downlink, Reply::None, bodyAck},
    {msg::ResendRequest, "Re-send sub-packages request", MessageKind::Downlink, Reply::None, bodyResendRequest},
    {msg::ServerTime, "Server time", MessageKind::Downlink, Reply::None, bodyServerTime},
    {msg::RegisterResponse, "Register response", MessageKind::Downlink, Reply::None, bodyRegisterResponse},
    {msg::SetParameters, "Set parameters", MessageKind::Downlink, Reply::None, bodySetParameters},
    {msg::QueryParameters, "Query parameters", MessageKind::Downlink, Reply::None, bodyNone},
    {msg::TerminalControl, "Terminal control", MessageKind::Downlink, Reply::None, bodyTerminalControl},
    {msg::TimeSyncResponse, "Time sync response (vendor)", MessageKind::Downlink, Reply::None, bodyTimeSyncResponse},
    {msg::QueryLocation, "Location query", MessageKind::Downlink, Reply::None, bodyNone},
    {msg::TextMessage, "Text message", MessageKind::Downlink, Reply::None, bodyTextMessage},
    {msg::TransparentDownlink, "Transparent data (downlink)", MessageKind::Downlink, Reply::None, bodyTransparent},
};

const MessageSpec *findMessage(quint16 id) {
    for (const MessageSpec &m : kMessages)
        if (m.id == id)
            return &m;
    return nullptr;
}

QString messageName(quint16 id) {
    const MessageSpec *m = findMessage(id);
    return m ? QLatin1String(m->name) : QStringLiteral("unknown");
}

// ---------------------------------------------------------------- frame decoding

struct FrameQuality {
    bool headerComplete = false;
    bool lengthOk = false;
    bool checksumOk = false;
};

void addHeaderFields(Ctx &ctx, Field &hf, const Header &h, int base, int available) {
    Cursor c(ctx, hf, base, qMin(h.length, available));
    auto need = [&](int n, const char *what) { return c.need(n, QLatin1String(what)); };
    if (!need(2, "message ID"))
        return;
    c.add(2, QStringLiteral("Message ID"), QStringLiteral("%1 (%2)").arg(hexWord(h.id), messageName(h.id)));
    if (!need(2, "body properties"))
        return;
    {
        Field &p = c.add(2, QStringLiteral("Body properties"), hexWord(h.props));
        p.add(makeField(base + 2, 2, QStringLiteral("Bits 0-9: Body length"), QString::number(h.declaredBodyLength)));
        if (h.shortSerial) {
            p.add(makeField(base + 2, 1, QStringLiteral("Bit 15: Reply wanted (vendor)"),
                            (h.props & 0x8000) ? QStringLiteral("yes") : QStringLiteral("no")));
        } else {
            p.add(makeField(base + 2, 1, QStringLiteral("Bits 10-12: Encryption"),
                            h.encryption == 0 ? QStringLiteral("none") : h.encryption == 1 ? QStringLiteral("RSA")
                                                                                           : QStringLiteral("reserved (%1)").arg(h.encryption)));
            p.add(makeField(base + 2, 1, QStringLiteral("Bit 13: Sub-packaged"), h.subpackaged ? QStringLiteral("yes") : QStringLiteral("no")));
            Field &v = p.add(makeField(base + 2, 1, QStringLiteral("Bit 14: 2019 version flag"), h.flag2019 ? QStringLiteral("set") : QStringLiteral("clear")));
            if (h.forced2013)
                v.value += QStringLiteral(" (but the header is 2013 layout: \"2013-force\" device)");
            if (h.props & 0x8000)
                p.add(makeField(base + 2, 1, QStringLiteral("Bit 15: Reserved"), QStringLiteral("set")));
        }
    }
    if (h.v2019) {
        if (!need(1, "protocol version"))
            return;
        c.add(1, QStringLiteral("Protocol version"), QString::number(h.version));
    }
    const int idLen = h.v2019 ? 10 : 6;
    if (!need(idLen, "terminal phone number"))
        return;
    {
        bool bcd = false;
        bcdDigits(h.terminal, &bcd);
        Field &f = c.add(idLen, QStringLiteral("Terminal phone / ID"), terminalIdText(h.terminal));
        if (!bcd)
            f.value += QStringLiteral(" (not BCD: read as a 48-bit number plus Luhn digit)");
    }
    const int serialLen = h.shortSerial ? 1 : 2;
    if (!need(serialLen, "serial number"))
        return;
    c.add(serialLen, QStringLiteral("Serial number"), QString::number(h.serial));
    if (h.subpackaged) {
        if (!need(4, "package total and index"))
            return;
        c.add(2, QStringLiteral("Package total"), QString::number(h.packageTotal));
        c.add(2, QStringLiteral("Package index"), QString::number(h.packageIndex));
    }
}

// Decodes the unescaped content of one frame (between the flags). `startFlag` / `endFlag`
// tell whether the frame had them; `wire` is what was received (empty if same as bytes).
DecodedFrame decodeContent(const QByteArray &content, bool startFlag, bool endFlag, const QByteArray &wire,
                           const QStringList &escapeProblems, const SessionOptions &options,
                           int reassembledParts = 0, FrameQuality *quality = nullptr) {
    DecodedFrame frame;
    frame.protocol = QStringLiteral("jt808");
    frame.bytes.reserve(content.size() + 2);
    if (startFlag)
        frame.bytes.append(char(0x7E));
    frame.bytes.append(content);
    if (endFlag)
        frame.bytes.append(char(0x7E));
    if (wire != frame.bytes)
        frame.wire = wire;
    frame.warnings << escapeProblems;
    if (!startFlag)
        frame.warnings << QStringLiteral("no 0x7E start flag");
    if (!endFlag)
        frame.warnings << QStringLiteral("no 0x7E end flag");

    const int base = startFlag ? 1 : 0;
    const bool toDevice = options.direction == Direction::ToDevice;
    const bool annotate = options.annotate;
    FrameQuality q;
    if (startFlag && annotate)
        frame.fields << makeField(0, 1, QStringLiteral("Start flag"), QStringLiteral("0x7e"));

    auto finish = [&]() {
        if (endFlag && annotate)
            frame.fields << makeField(int(frame.bytes.size()) - 1, 1, QStringLiteral("End flag"), QStringLiteral("0x7e"));
        if (quality)
            *quality = q;
        return frame;
    };

    if (content.size() < 4) {
        frame.typeName = QStringLiteral("Truncated frame");
        if (!content.isEmpty() && annotate)
            frame.fields << makeField(base, int(content.size()), QStringLiteral("Undecoded"), hex(content));
        frame.warnings << QStringLiteral("frame too short for a JT/T 808 header (%1 bytes)").arg(content.size());
        return finish();
    }

    const Header h = parseHeader(content);
    const MessageSpec *spec = findMessage(h.id);
    frame.type = h.id;
    frame.serial = h.serial;
    frame.typeName = spec ? QLatin1String(spec->name) : QStringLiteral("Unknown message %1").arg(hexWord(h.id));
    frame.message.deviceId = h.terminal.isEmpty() ? QString() : terminalIdText(h.terminal);
    const bool downlink = toDevice || (h.id & 0x8000);
    frame.message.kind = downlink ? MessageKind::Downlink : spec ? spec->kind : MessageKind::Unknown;

    const int tz = h.shortSerial ? options.timeZoneMinutes.value_or(0)
                                 : options.timeZoneMinutes.value_or(DefaultTimeZoneMinutes);
    Ctx ctx{frame.bytes, frame, options, h.v2019, tz};

    if (content.size() < h.length + 1) {
        Field hf = makeField(base, int(content.size()), QStringLiteral("Header (truncated)"));
        addHeaderFields(ctx, hf, h, base, int(content.size()));   // also reports what is missing
        if (annotate)
            frame.fields << hf;
        frame.warnings << QStringLiteral("truncated: %1 bytes, the header and checksum need %2").arg(content.size()).arg(h.length + 1);
        frame.summary = QStringLiteral("truncated %1").arg(frame.typeName);
        return finish();
    }
    q.headerComplete = true;

    if (annotate) {   // the header is complete here: nothing in it can warn
        Field hf = makeField(base, h.length, QStringLiteral("Header"));
        addHeaderFields(ctx, hf, h, base, h.length);
        hf.value = h.v2019 ? QStringLiteral("2019") : h.forced2013 ? QStringLiteral("2013 (2019 flag set)") : QStringLiteral("2013");
        frame.fields << hf;
    }

    const int bodyOff = base + h.length;
    const int bodyLen = int(content.size()) - h.length - 1;
    q.lengthOk = bodyLen == h.declaredBodyLength || reassembledParts > 0;
    if (!q.lengthOk)
        frame.warnings << QStringLiteral("body length: the header says %1 bytes, the frame holds %2").arg(h.declaredBodyLength).arg(bodyLen);

    const quint8 given = quint8(content.back());
    const quint8 computed = checksum(content.left(content.size() - 1));
    q.checksumOk = given == computed;

    if (bodyLen > 0) {
        Field body = makeField(bodyOff, bodyLen, QStringLiteral("Body"));
        Cursor c(ctx, body, bodyOff, bodyLen);
        if (h.encryption != 0) {
            c.rest(QStringLiteral("Encrypted data"), annotate ? hex(c.bytes(c.left())) : QString());
            frame.warnings << QStringLiteral("the body is encrypted (%1); not decoded")
                                  .arg(h.encryption == 1 ? QStringLiteral("RSA") : QStringLiteral("method %1").arg(h.encryption));
        } else if (h.subpackaged && reassembledParts == 0) {
            c.rest(QStringLiteral("Sub-package data"), annotate ? hex(c.bytes(c.left())) : QString());
        } else if (spec) {
            spec->decode(ctx, c);
            if (downlink)
                frame.message.kind = MessageKind::Downlink;
        } else {
            c.rest(QStringLiteral("Undecoded"), annotate ? textOrHex(c.bytes(c.left())) : QString());
        }
        if (annotate)
            frame.fields << body;
    } else if (spec && h.encryption == 0 && !(h.subpackaged && reassembledParts == 0)) {
        Field none = makeField(bodyOff, 0, QString());
        Cursor c(ctx, none, bodyOff, 0);
        spec->decode(ctx, c);   // empty-body messages still set the summary; warnings for required bodies
    }

    if (!annotate) {
        if (!q.checksumOk && reassembledParts == 0)
            frame.warnings << QStringLiteral("checksum mismatch: the frame says 0x%1, computed 0x%2")
                                  .arg(given, 2, 16, QLatin1Char('0')).arg(computed, 2, 16, QLatin1Char('0'));
    } else {
        Field cs = makeField(base + int(content.size()) - 1, 1, QStringLiteral("Checksum"),
                             QStringLiteral("0x%1").arg(given, 2, 16, QLatin1Char('0')));
        if (q.checksumOk || reassembledParts > 0) {
            cs.value += reassembledParts > 0 ? QStringLiteral(" (recomputed)") : QStringLiteral(" (correct)");
        } else {
            cs.warning = QStringLiteral("computed 0x%1").arg(computed, 2, 16, QLatin1Char('0'));
            frame.warnings << QStringLiteral("checksum mismatch: the frame says 0x%1, computed 0x%2")
                                  .arg(given, 2, 16, QLatin1Char('0')).arg(computed, 2, 16, QLatin1Char('0'));
        }
        frame.fields << cs;
    }

    if (reassembledParts > 0) {
        frame.typeName += QStringLiteral(" (reassembled from %1 packets)").arg(reassembledParts);
    } else if (h.subpackaged) {
        {
            frame.typeName += QStringLiteral(" (packet %1 of %2)").arg(h.packageIndex).arg(h.packageTotal);
            frame.message.kind = downlink ? MessageKind::Downlink : MessageKind::Unknown;
            frame.summary = QStringLiteral("packet %1 of %2, %3 bytes").arg(h.packageIndex).arg(h.packageTotal).arg(bodyLen);
            if (h.packageTotal < 1 || h.packageIndex < 1 || h.packageIndex > h.packageTotal)
                frame.warnings << QStringLiteral("package index %1 of %2 is impossible").arg(h.packageIndex).arg(h.packageTotal);
        }
    }
    if (frame.summary.isEmpty())
        frame.summary = frame.message.deviceId.isEmpty() ? frame.typeName
                                                         : QStringLiteral("terminal %1").arg(frame.message.deviceId);

    // Replies: only for frames coming from a device.
    if (!downlink && q.headerComplete) {
        const Terminal to = h.replyTo();
        const bool partOnly = h.subpackaged && reassembledParts == 0;
        Reply r = spec ? spec->reply : Reply::None;
        if (partOnly)
            r = Reply::General;               // every packet is acknowledged
        else if (reassembledParts > 0 && r == Reply::General)
            r = Reply::None;                  // the packets were acknowledged one by one
        if (h.encryption != 0 && r != Reply::General)
            r = Reply::None;
        switch (r) {
        case Reply::None:
            break;
        case Reply::General:
            frame.replies << encodeGeneralResponse(to, 0, quint16(h.serial), h.id, result::Ok);
            break;
        case Reply::Register:
            frame.replies << encodeRegisterResponse(to, 0, quint16(h.serial), result::Ok, frame.message.deviceId.toLatin1());
            break;
        case Reply::TimeSync:
            frame.replies << encodeTimeSyncResponse(to, 0, QDateTime::currentDateTimeUtc(), result::Ok);
            break;
        case Reply::ServerTime:
            frame.replies << encodeServerTime(to, 0, QDateTime::currentDateTimeUtc());
            break;
        }
    }
    return finish();
}

// ---------------------------------------------------------------- ASCII sentences "(ID,...)"

constexpr int kMaxSentence = 512;

bool plausibleSentence(const QByteArray &s) {
    if (s.size() < 4 || s.front() != '(' || s.back() != ')' || !isPrintableAscii(s))
        return false;
    const int comma = int(s.indexOf(','));
    if (comma < 2)
        return false;
    for (int i = 1; i < comma; ++i)
        if (!std::isalnum(quint8(s[i])))
            return false;
    return true;
}

DecodedFrame decodeSentence(const QByteArray &s, const SessionOptions &options) {
    DecodedFrame frame;
    frame.protocol = QStringLiteral("jt808");
    frame.bytes = s;
    frame.typeName = QStringLiteral("Text sentence (e-lock)");
    const bool closed = s.size() >= 2 && s.back() == ')';
    frame.fields << makeField(0, 1, QStringLiteral("Start"), QStringLiteral("'('"));
    const int innerLen = int(s.size()) - 1 - (closed ? 1 : 0);
    const QString sentence = QString::fromLatin1(s);
    const QStringList parts = QString::fromLatin1(s.mid(1, innerLen)).split(QLatin1Char(','));
    if (innerLen > 0) {
        Field inner = makeField(1, innerLen, QStringLiteral("Sentence"), QString::fromLatin1(s.mid(1, innerLen)));
        int p = 1;
        for (int i = 0; i < parts.size(); ++i) {
            const int len = int(parts[i].size());
            const QString name = i == 0 ? QStringLiteral("Terminal ID") : i == 3 ? QStringLiteral("Command")
                                                                                 : QStringLiteral("Item %1").arg(i + 1);
            if (len > 0)
                inner.add(makeField(p, len, name, parts[i]));
            p += len + 1;
        }
        frame.fields << inner;
    }
    if (closed)
        frame.fields << makeField(int(s.size()) - 1, 1, QStringLiteral("End"), QStringLiteral("')'"));
    else
        frame.warnings << QStringLiteral("no closing ')'");
    if (!isPrintableAscii(s))
        frame.warnings << QStringLiteral("non-ASCII bytes in a text sentence");
    frame.message.deviceId = parts.value(0);
    const bool toDevice = options.direction == Direction::ToDevice;
    const bool timeRequest = parts.size() >= 6 && parts[3] == QLatin1String("BASE") && parts[4] == QLatin1String("2");
    if (toDevice) {
        frame.message.kind = MessageKind::Downlink;
        frame.summary = sentence;
    } else if (timeRequest) {
        frame.message.kind = MessageKind::TimeRequest;
        frame.summary = QStringLiteral("time request from %1").arg(parts[0]);
        if (closed) {
            QString reply = sentence;
            reply.replace(QLatin1String("TIME"), QDateTime::currentDateTimeUtc().toString(QStringLiteral("yyyyMMddHHmmss")));
            frame.replies << reply.toLatin1();
        }
    } else {
        frame.message.kind = MessageKind::CommandReply;
        frame.message.text = sentence;
        frame.summary = sentence;
    }
    if (!options.annotate)
        frame.fields.clear();   // a rare, short text frame: not worth a separate path
    return frame;
}

} // namespace
} // namespace detail

using namespace detail;

// ---------------------------------------------------------------- ids

std::optional<Terminal> terminalFromId(const QString &idText, bool v2019, QString *error) {
    const QString id = idText.trimmed();
    auto fail = [&](const QString &e) -> std::optional<Terminal> {
        if (error)
            *error = e;
        return std::nullopt;
    };
    if (id.isEmpty())
        return fail(QStringLiteral("empty terminal id"));
    for (QChar ch : id)
        if (!ch.isDigit() || ch.unicode() > 127)
            return fail(QStringLiteral("terminal id '%1' is not all decimal digits").arg(id));
    Terminal t;
    t.v2019 = v2019;
    const int digits = v2019 ? 20 : 12;
    if (id.size() <= digits) {
        t.id = toBcd(QString(digits - id.size(), QLatin1Char('0')) + id);
        return t;
    }
    if (!v2019 && id.size() == 15) {
        const quint64 v = id.left(14).toULongLong();
        for (int i = 5; i >= 0; --i)
            t.id.append(char((v >> (8 * i)) & 0xFF));
        return t;
    }
    return fail(QStringLiteral("terminal id '%1' has %2 digits; at most %3 fit%4").arg(id).arg(id.size()).arg(digits)
                    .arg(v2019 ? QString() : QStringLiteral(" (or a 15-digit IMEI)")));
}

QString terminalIdText(const QByteArray &idBytes) {
    bool ok = false;
    const QString digits = bcdDigits(idBytes, &ok);
    if (ok || idBytes.size() != 6)
        return digits;
    quint64 v = 0;
    for (char ch : idBytes)
        v = (v << 8) | quint8(ch);
    const QString base = QStringLiteral("%1").arg(v, 14, 10, QLatin1Char('0'));
    int sum = 0;
    for (int i = 0; i < base.size(); ++i) {
        int d = base[base.size() - 1 - i].digitValue();
        if (i % 2 == 0) {
            d *= 2;
            if (d > 9)
                d -= 9;
        }
        sum += d;
    }
    return base + QString::number((10 - sum % 10) % 10);
}

// ---------------------------------------------------------------- framing primitives

namespace {
quint8 xorOf(const char *d, qsizetype n) {
    quint8 x = 0;
    for (qsizetype i = 0; i < n; ++i)
        x ^= quint8(d[i]);
    return x;
}
} // namespace

quint8 checksum(const QByteArray &data) { return xorOf(data.constData(), data.size()); }

namespace {
// Escapes `n` bytes into `o` (room for 2 * n); returns the end.
char *escapeInto(const char *in, qsizetype n, char *o) {
    for (qsizetype i = 0; i < n; ++i) {
        const quint8 c = quint8(in[i]);
        if (c == 0x7E) {
            *o++ = char(0x7D);
            *o++ = char(0x02);
        } else if (c == 0x7D) {
            *o++ = char(0x7D);
            *o++ = char(0x01);
        } else {
            *o++ = char(c);
        }
    }
    return o;
}
} // namespace

QByteArray escape(const QByteArray &content) {
    QByteArray out(content.size() * 2, Qt::Uninitialized);
    out.truncate(escapeInto(content.constData(), content.size(), out.data()) - out.constData());
    return out;
}

QByteArray unescape(const QByteArray &escaped, QStringList *problems) {
    // Written through a pointer into a buffer of the input's size (the output is never
    // longer): QByteArray::append per byte costs a call each, on every frame received.
    QByteArray out(escaped.size(), Qt::Uninitialized);
    char *o = out.data();
    const char *in = escaped.constData();
    const int n = int(escaped.size());
    for (int i = 0; i < n; ++i) {
        const quint8 c = quint8(in[i]);
        if (c == 0x7D) {
            if (i + 1 < n && (in[i + 1] == 0x01 || in[i + 1] == 0x02)) {
                *o++ = char(0x7C + in[i + 1]);
                ++i;
                continue;
            }
            if (problems)
                *problems << (i + 1 < escaped.size()
                                  ? QStringLiteral("bad escape 7d %1 at offset %2 (kept as is)")
                                        .arg(quint8(escaped[i + 1]), 2, 16, QLatin1Char('0')).arg(i)
                                  : QStringLiteral("escape byte 7d at the end of the frame (kept as is)"));
        } else if (c == 0x7E && problems) {
            *problems << QStringLiteral("unescaped 0x7e inside the frame at offset %1").arg(i);
        }
        *o++ = char(c);
    }
    out.truncate(o - out.constData());
    return out;
}

QByteArray buildFrame(quint16 messageId, const Terminal &to, quint16 serial, const QByteArray &body, QString *error) {
    if (body.size() > MaxBodyLength) {
        if (error)
            *error = QStringLiteral("body of %1 bytes is longer than %2 (sub-packaging not supported by this encoder)")
                         .arg(body.size()).arg(MaxBodyLength);
        return {};
    }
    // Header, body and check code in a stack buffer, escaped straight into the frame (every
    // location report gets one of these as its reply): one allocation per frame.
    char c[2 + 2 + 1 + 10 + 2 + MaxBodyLength + 1];
    qsizetype n = 0;
    auto put = [&](quint16 v) {
        c[n++] = char(v >> 8);
        c[n++] = char(v & 0xFF);
    };
    put(messageId);
    put(quint16(body.size() | (to.v2019 ? 0x4000 : 0)));
    if (to.v2019)
        c[n++] = char(to.protocolVersion);
    const int idLength = to.v2019 ? 10 : 6;   // the id left-aligned, zero-padded, cut
    const qsizetype idCopy = std::min<qsizetype>(to.id.size(), idLength);
    std::memcpy(c + n, to.id.constData(), size_t(idCopy));
    std::memset(c + n + idCopy, 0, size_t(idLength - idCopy));
    n += idLength;
    put(serial);
    std::memcpy(c + n, body.constData(), size_t(body.size()));
    n += body.size();
    c[n] = char(xorOf(c, n));
    ++n;
    QByteArray out(2 * n + 2, Qt::Uninitialized);
    char *o = out.data();
    *o++ = char(0x7E);
    o = escapeInto(c, n, o);
    *o++ = char(0x7E);
    out.truncate(o - out.constData());
    return out;
}

// ---------------------------------------------------------------- platform -> terminal

QByteArray encodeGeneralResponse(const Terminal &to, quint16 serial, quint16 ackSerial, quint16 ackMessageId, quint8 r) {
    QByteArray b;
    put16(b, ackSerial);
    put16(b, ackMessageId);
    b.append(char(r));
    return buildFrame(msg::PlatformResponse, to, serial, b);
}

QByteArray encodeRegisterResponse(const Terminal &to, quint16 serial, quint16 ackSerial, quint8 r, const QByteArray &authCode) {
    QByteArray b;
    put16(b, ackSerial);
    b.append(char(r));
    if (r == result::Ok)
        b.append(authCode.left(MaxBodyLength - 3));
    return buildFrame(msg::RegisterResponse, to, serial, b);
}

QByteArray encodeTimeSyncResponse(const Terminal &to, quint16 serial, const QDateTime &utc, quint8 r) {
    const QDateTime t = utc.toUTC();
    QByteArray b;
    put16(b, quint16(t.date().year()));
    b.append(char(t.date().month()));
    b.append(char(t.date().day()));
    b.append(char(t.time().hour()));
    b.append(char(t.time().minute()));
    b.append(char(t.time().second()));
    b.append(char(r));
    return buildFrame(msg::TimeSyncResponse, to, serial, b);
}

QByteArray encodeServerTime(const Terminal &to, quint16 serial, const QDateTime &utc) {
    return buildFrame(msg::ServerTime, to, serial, toBcd(utc.toUTC().toString(QStringLiteral("yyMMddHHmmss"))));
}

QByteArray encodeTextMessage(const Terminal &to, quint16 serial, quint8 flags, const QString &text, quint8 textType,
                             QString *error) {
    QByteArray b;
    b.append(char(flags));
    if (to.v2019)
        b.append(char(textType));
    b.append(encodeGbk(text));
    return buildFrame(msg::TextMessage, to, serial, b, error);
}

Parameter Parameter::dword(quint32 id, quint32 v) { Parameter p{id, {}}; put32(p.value, v); return p; }
Parameter Parameter::word(quint32 id, quint16 v) { Parameter p{id, {}}; put16(p.value, v); return p; }
Parameter Parameter::byte(quint32 id, quint8 v) { return Parameter{id, QByteArray(1, char(v))}; }
Parameter Parameter::string(quint32 id, const QString &text) { return Parameter{id, encodeGbk(text)}; }

QByteArray encodeSetParameters(const Terminal &to, quint16 serial, const QList<Parameter> &parameters, QString *error) {
    if (parameters.size() > 255) {
        if (error)
            *error = QStringLiteral("%1 parameters; at most 255 fit one message").arg(parameters.size());
        return {};
    }
    QByteArray b;
    b.append(char(parameters.size()));
    for (const Parameter &p : parameters) {
        if (p.value.size() > 255) {
            if (error)
                *error = QStringLiteral("parameter %1: value of %2 bytes (at most 255)").arg(hexWord(p.id)).arg(p.value.size());
            return {};
        }
        put32(b, p.id);
        b.append(char(p.value.size()));
        b.append(p.value);
    }
    return buildFrame(msg::SetParameters, to, serial, b, error);
}

QByteArray encodeTerminalControl(const Terminal &to, quint16 serial, quint8 command, const QByteArray &parameters) {
    QByteArray b;
    b.append(char(command));
    b.append(parameters.left(MaxBodyLength - 1));
    return buildFrame(msg::TerminalControl, to, serial, b);
}

QString parameterName(quint32 id) {
    const ParamSpec *p = findParam(id);
    return p ? QLatin1String(p->name) : QString();
}

// ---------------------------------------------------------------- terminal -> platform

QByteArray encodeRegister(const Terminal &from, quint16 serial, const RegisterInfo &info) {
    const int maker = from.v2019 ? 11 : 5, model = from.v2019 ? 30 : 20, termId = from.v2019 ? 30 : 7;
    QByteArray b;
    put16(b, info.province);
    put16(b, info.city);
    b.append(fixedField(info.manufacturer.toLatin1(), maker));
    b.append(fixedField(info.model.toLatin1(), model));
    b.append(fixedField(info.terminalId.toLatin1(), termId));
    b.append(char(info.plateColor));
    b.append(encodeGbk(info.plate).left(MaxBodyLength - int(b.size())));
    return buildFrame(msg::Register, from, serial, b);
}

QByteArray encodeAuthentication(const Terminal &from, quint16 serial, const QByteArray &authCode, const QString &imei,
                                const QString &softwareVersion) {
    QByteArray b;
    if (from.v2019) {
        const QByteArray code = authCode.left(255);
        b.append(char(code.size()));
        b.append(code);
        b.append(fixedField(imei.toLatin1(), 15));
        b.append(fixedField(softwareVersion.toLatin1(), 20));
    } else {
        b = authCode.left(MaxBodyLength);
    }
    return buildFrame(msg::Authentication, from, serial, b);
}

QByteArray encodeHeartbeat(const Terminal &from, quint16 serial) { return buildFrame(msg::Heartbeat, from, serial, {}); }

// ---------------------------------------------------------------- stream session

namespace {

constexpr int kMaxWireFrame = 2 + 2 * (21 + MaxBodyLength + 1);   // every byte escaped

class Jt808Session : public ProtocolSession {
public:
    explicit Jt808Session(const SessionOptions &o) : m_opt(o) {}

    QList<StreamEvent> feed(const QByteArray &bytes) override {
        QList<StreamEvent> out;
        m_buf.append(bytes);
        while (!m_buf.isEmpty()) {
            const quint8 first = quint8(m_buf[0]);
            if (first != 0x7E && first != '(') {
                int next = 0;
                while (next < m_buf.size() && quint8(m_buf[next]) != 0x7E && m_buf[next] != '(')
                    ++next;
                garbage(out, next, QStringLiteral("not JT/T 808 data (skipped up to the next 0x7e or '(')"));
                continue;
            }
            if (first == '(') {
                if (!takeSentence(out))
                    break;
                continue;
            }
            const int end = int(m_buf.indexOf(char(0x7E), 1));
            const int bound = qMin(m_opt.maxBufferedBytes, kMaxWireFrame);
            if (end < 0) {
                if (m_buf.size() > bound) {
                    StreamEvent e;
                    e.kind = StreamEvent::Dropped;
                    e.bytes = m_buf;
                    e.reason = QStringLiteral("no 0x7e end flag within %1 bytes (bound %2; the longest JT/T 808 frame has %3)")
                                   .arg(m_buf.size()).arg(bound).arg(kMaxWireFrame);
                    out << e;
                    m_buf.clear();
                }
                break;
            }
            if (end + 1 > bound) {
                // Too long to be a frame: drop up to the flag, which may start the next one.
                StreamEvent e;
                e.kind = StreamEvent::Dropped;
                e.bytes = m_buf.left(end);
                e.reason = QStringLiteral("%1 bytes between 0x7e flags exceed the bound (%2)").arg(end + 1).arg(bound);
                out << e;
                m_buf.remove(0, end);
                continue;
            }
            if (end == 1) {   // 7E 7E: a stray flag (end of a frame we did not see the start of)
                garbage(out, 1, QStringLiteral("stray 0x7e flag"));
                continue;
            }
            takeFrame(out, end);
        }
        if (m_buf.isEmpty())
            m_buf = QByteArray();   // idle sessions hold no storage
        return out;
    }

    int bufferedBytes() const override { return int(m_buf.size()) + m_reasmBytes; }
    void setOptions(const SessionOptions &options) override { m_opt = options; }

private:
    void garbage(QList<StreamEvent> &out, int n, const QString &reason) {
        StreamEvent e;
        e.kind = StreamEvent::Garbage;
        e.bytes = m_buf.left(n);
        e.reason = reason;
        m_buf.remove(0, n);
        // Merge with a directly preceding garbage event of this feed.
        if (!out.isEmpty() && out.last().kind == StreamEvent::Garbage && out.last().reason == reason)
            out.last().bytes += e.bytes;
        else
            out << e;
    }

    // Returns false when more bytes are needed.
    bool takeSentence(QList<StreamEvent> &out) {
        const int bound = qMax(2, qMin(kMaxSentence, m_opt.maxBufferedBytes));
        int i = 1;
        for (; i < m_buf.size() && i < bound; ++i) {
            const quint8 c = quint8(m_buf[i]);
            if (c == ')')
                break;
            if (c < 0x20 || c > 0x7E || c == '(') {
                garbage(out, i, QStringLiteral("not a text sentence"));
                return true;
            }
        }
        if (i >= bound) {
            garbage(out, i, QStringLiteral("text sentence longer than %1 bytes").arg(bound));
            return true;
        }
        if (i >= m_buf.size())
            return false;
        const QByteArray s = m_buf.left(i + 1);
        if (!plausibleSentence(s)) {
            garbage(out, i + 1, QStringLiteral("not a text sentence"));
            return true;
        }
        m_buf.remove(0, i + 1);
        StreamEvent e;
        e.frame = decodeSentence(s, m_opt);
        out << e;
        return true;
    }

    void takeFrame(QList<StreamEvent> &out, int end) {
        const QByteArray wire = m_buf.left(end + 1);
        QStringList problems;
        const QByteArray content = unescape(wire.mid(1, end - 1), &problems);
        FrameQuality q;
        DecodedFrame f = decodeContent(content, true, true, wire, problems, m_opt, 0, &q);
        if (!q.headerComplete || (!q.lengthOk && !q.checksumOk && !findMessage(quint16(f.type)))) {
            // Not a frame: most likely we synchronised on a 0x7e inside garbage. Skip up to
            // the closing flag and let it start the next frame. (A known message id with a
            // wrong length and checksum is still shown, as a broken frame.)
            garbage(out, end, QStringLiteral("not a JT/T 808 frame (unknown id, length and checksum wrong)"));
            return;
        }
        m_buf.remove(0, end + 1);
        if (!q.checksumOk && m_opt.strictChecksum) {
            StreamEvent e;
            e.kind = StreamEvent::Dropped;
            e.bytes = wire;
            e.reason = QStringLiteral("checksum mismatch (strict checksum mode)");
            out << e;
            return;
        }
        const Header h = parseHeader(content);
        StreamEvent e;
        e.frame = std::move(f);
        out << e;
        if (h.subpackaged && h.encryption == 0)
            addPacket(out, content, h);
    }

    void resetReassembly() {
        m_parts.clear();
        m_reasmBytes = 0;
        m_first.clear();
    }

    void addPacket(QList<StreamEvent> &out, const QByteArray &content, const Header &h) {
        if (h.packageTotal < 1 || h.packageIndex < 1 || h.packageIndex > h.packageTotal)
            return;
        if (!m_parts.isEmpty() && (m_id != h.id || m_terminal != h.terminal || m_total != h.packageTotal)) {
            StreamEvent e;
            e.kind = StreamEvent::Dropped;
            for (const QByteArray &p : std::as_const(m_parts))
                e.bytes += p;
            e.reason = QStringLiteral("incomplete sub-packaged message %1 discarded: %2 of %3 packets")
                           .arg(hexWord(m_id)).arg(m_parts.size()).arg(m_total);
            out << e;
            resetReassembly();
        }
        const QByteArray body = content.mid(h.length, content.size() - h.length - 1);
        if (m_reasmBytes + body.size() > m_opt.maxBufferedBytes) {
            StreamEvent e;
            e.kind = StreamEvent::Dropped;
            for (const QByteArray &p : std::as_const(m_parts))
                e.bytes += p;
            e.bytes += body;
            e.reason = QStringLiteral("sub-packaged message %1 exceeds %2 buffered bytes").arg(hexWord(h.id)).arg(m_opt.maxBufferedBytes);
            out << e;
            resetReassembly();
            return;
        }
        m_id = h.id;
        m_terminal = h.terminal;
        m_total = h.packageTotal;
        m_reasmBytes -= int(m_parts.value(h.packageIndex).size());
        m_parts.insert(h.packageIndex, body);
        m_reasmBytes += int(body.size());
        if (h.packageIndex == 1)
            m_first = content.left(h.length);
        if (m_parts.size() < m_total || m_first.isEmpty())
            return;
        QByteArray all;
        for (const QByteArray &p : std::as_const(m_parts))
            all += p;
        // The reassembled message: the first packet's header without the sub-package words.
        QByteArray c = m_first.left(m_first.size() - 4);
        quint16 props = quint16((rd16(c, 2) & ~0x2000 & ~0x3FF) | (all.size() & 0x3FF));
        if (c.size() == 12)
            props &= ~0x4000;   // a "2013-force" device: keep the 2013 layout whatever the length
        c[2] = char(props >> 8);
        c[3] = char(props & 0xFF);
        c.append(all);
        c.append(char(checksum(c)));
        const int parts = m_total;
        resetReassembly();
        StreamEvent e;
        e.frame = decodeContent(c, true, true, {}, {}, m_opt, parts);
        out << e;
    }

    SessionOptions m_opt;
    QByteArray m_buf;
    // One sub-packaged message being reassembled (state kept small: only what arrived).
    quint16 m_id = 0;
    QByteArray m_terminal;
    int m_total = 0;
    QByteArray m_first;              // header of packet 1
    QMap<int, QByteArray> m_parts;   // index -> body
    int m_reasmBytes = 0;
};

class Jt808Protocol : public Protocol {
public:
    QString id() const override { return QStringLiteral("jt808"); }
    QString displayName() const override { return QStringLiteral("JT/T 808 (2011/2013/2019)"); }

    Sniff sniff(const QByteArray &head) const override {
        if (head.isEmpty())
            return Sniff::NeedMore;
        const quint8 first = quint8(head[0]);
        if (first == '(') {
            int i = 1;
            while (i < head.size() && std::isdigit(quint8(head[i])))
                ++i;
            if (i == head.size())
                return Sniff::NeedMore;
            return head[i] == ',' && i >= 7 ? Sniff::Yes : Sniff::No;
        }
        if (first != 0x7E)
            return Sniff::No;
        if (head.size() >= 2 && quint8(head[1]) == 0x7E)   // back-to-back flags: look at the next frame
            return sniff(head.mid(1));
        // Unescape what we have of the header (a trailing lone 7D waits for its partner).
        QByteArray c;
        for (int i = 1; i < head.size() && c.size() < 4; ++i) {
            const quint8 b = quint8(head[i]);
            if (b == 0x7E)
                return Sniff::No;   // a frame of less than 4 bytes
            if (b == 0x7D) {
                if (i + 1 >= head.size())
                    break;
                const quint8 n = quint8(head[i + 1]);
                if (n != 0x01 && n != 0x02)
                    return Sniff::No;
                c.append(char(0x7C + n));
                ++i;
                continue;
            }
            c.append(char(b));
        }
        if (c.size() < 4)
            return Sniff::NeedMore;
        const quint16 id = rd16(c, 0);
        const quint16 props = rd16(c, 2);
        if (id == msg::VendorLocation || id == msg::VendorBlindLocation)
            return Sniff::Yes;
        const int encryption = (props >> 10) & 7;
        if (encryption > 1)
            return Sniff::No;
        // Message ids are in 0x0001..0x0fff (uplink standard), vendor ranges, or 0x8xxx.
        if (id == 0)
            return Sniff::No;
        return Sniff::Yes;
    }

    std::unique_ptr<ProtocolSession> createSession(const SessionOptions &options) const override {
        return std::make_unique<Jt808Session>(options);
    }

    DecodedFrame decodeFrame(const QByteArray &frame, const SessionOptions &options) const override {
        if (!frame.isEmpty() && frame[0] == '(')
            return decodeSentence(frame, options);
        const bool start = !frame.isEmpty() && quint8(frame[0]) == 0x7E;
        const bool end = frame.size() >= 2 && quint8(frame.back()) == 0x7E;
        const QByteArray inner = frame.mid(start ? 1 : 0, frame.size() - (start ? 1 : 0) - (end ? 1 : 0));
        QStringList problems;
        const QByteArray content = unescape(inner, &problems);
        FrameQuality q;
        DecodedFrame f = decodeContent(content, start, end, frame, problems, options, 0, &q);
        // "bad escape 7d xx", "escape byte 7d at the end" (not the "unescaped 0x7e" ones: those
        // are the same either way and come with the frame's own warnings).
        QStringList badEscapes;
        for (const QString &p : std::as_const(problems))
            if (p.startsWith(QLatin1String("bad escape")) || p.startsWith(QLatin1String("escape byte")))
                badEscapes << p;
        if ((content != inner || !badEscapes.isEmpty()) && (!q.lengthOk || !q.checksumOk || !badEscapes.isEmpty())) {
            // Decoder dumps (Traccar tests, logs) often quote frames already unescaped. When the
            // bytes are consistent only that way, decode them as such and say so.
            FrameQuality rq;
            DecodedFrame raw = decodeContent(inner, start, end, frame, problems.filter(QStringLiteral("unescaped 0x7e")),
                                             options, 0, &rq);
            if (rq.headerComplete && rq.lengthOk && rq.checksumOk) {
                const QString why = badEscapes.isEmpty()
                    ? QStringLiteral("unescaping 7d 01/7d 02 breaks the length and checksum")
                    : badEscapes.join(QStringLiteral("; "));
                raw.warnings.prepend(QStringLiteral("decoded as an already-unescaped dump (length and checksum agree that way); "
                                                    "as wire bytes: %1").arg(why));
                return raw;
            }
        }
        return f;
    }
};

} // namespace

const Protocol &protocol() {
    static const Jt808Protocol p;
    return p;
}

} // namespace td::proto::jt808

namespace td::proto {
const Protocol &jt808Protocol() { return jt808::protocol(); }
} // namespace td::proto
