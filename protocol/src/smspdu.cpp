// SMS PDUs (3GPP TS 23.040 / 23.038): decode with annotation, encode, split, reassemble.
// Facts: shared/reference/modem/facts.md sections 4, 7, 8 (layouts, verified PDUs, pitfalls).
//
// One parser (Parser below) walks the PDU once, field by field, like a dissector: every
// element is read through a bounds-checked cursor and, when annotating, recorded as a Field
// with its offset and length. decode() and annotate() are the same walk.
//
// Leniency rules (real modems and networks):
//   * UDL longer than the data present: clamped to what is there, with a warning;
//   * bytes after the user data: kept as "Trailing bytes", with a warning;
//   * a bad SCTS (non-BCD digit, impossible date, time zone beyond +-14 h): warning, the
//     time stamp is left invalid (or taken as UTC for the zone);
//   * a concatenation IE with sequence 0 or beyond its total: warning, message not concatenated;
//   * fill bits after the UDH are skipped whatever their value;
//   * odd UCS-2 byte count: the last byte is dropped with a warning.
// Everything else that does not fit (reserved TP-MTI, an address or UDH running past the
// end, an SMSC field longer than 12 octets) is an error: nullopt with a clear message.
#include "trackerdesk/protocol/smspdu.h"

#include <QTimeZone>

#include <algorithm>

namespace td::proto::pdu {

namespace {

// ---- GSM 03.38 default alphabet and extension table ----

constexpr char16_t Gsm7Default[128] = {
    u'@', u'£', u'$', u'¥', u'è', u'é', u'ù', u'ì', u'ò', u'Ç', u'\n', u'Ø', u'ø', u'\r', u'Å', u'å',
    u'Δ', u'_', u'Φ', u'Γ', u'Λ', u'Ω', u'Π', u'Ψ', u'Σ', u'Θ', u'Ξ', 0x1B, u'Æ', u'æ', u'ß', u'É',
    u' ', u'!', u'"', u'#', u'¤', u'%', u'&', u'\'', u'(', u')', u'*', u'+', u',', u'-', u'.', u'/',
    u'0', u'1', u'2', u'3', u'4', u'5', u'6', u'7', u'8', u'9', u':', u';', u'<', u'=', u'>', u'?',
    u'¡', u'A', u'B', u'C', u'D', u'E', u'F', u'G', u'H', u'I', u'J', u'K', u'L', u'M', u'N', u'O',
    u'P', u'Q', u'R', u'S', u'T', u'U', u'V', u'W', u'X', u'Y', u'Z', u'Ä', u'Ö', u'Ñ', u'Ü', u'§',
    u'¿', u'a', u'b', u'c', u'd', u'e', u'f', u'g', u'h', u'i', u'j', u'k', u'l', u'm', u'n', u'o',
    u'p', u'q', u'r', u's', u't', u'u', u'v', u'w', u'x', u'y', u'z', u'ä', u'ö', u'ñ', u'ü', u'à',
};

constexpr quint8 Escape = 0x1B;

struct ExtensionChar {
    quint8 septet;     // follows the 0x1B escape
    char16_t ch;
};
constexpr ExtensionChar Gsm7Extension[] = {
    {0x0A, u'\f'}, {0x14, u'^'}, {0x28, u'{'}, {0x29, u'}'}, {0x2F, u'\\'},
    {0x3C, u'['}, {0x3D, u'~'}, {0x3E, u']'}, {0x40, u'|'}, {0x65, u'€'},
};

// char -> septet (0..127) or 0x100 | extension septet. Built once.
const QHash<char16_t, quint16> &gsm7Reverse() {
    static const QHash<char16_t, quint16> table = [] {
        QHash<char16_t, quint16> t;
        for (int i = 0; i < 128; ++i)
            if (i != Escape)
                t.insert(Gsm7Default[i], quint16(i));
        for (const ExtensionChar &e : Gsm7Extension)
            t.insert(e.ch, quint16(0x100 | e.septet));
        return t;
    }();
    return table;
}

// Septets a character costs in GSM-7 (1, 2 for the extension table), 0 when not encodable.
int gsm7Cost(QChar c) {
    const auto it = gsm7Reverse().constFind(c.unicode());
    if (it == gsm7Reverse().constEnd())
        return 0;
    return (*it & 0x100) ? 2 : 1;
}

// ---- small helpers ----

QString hexByte(quint8 v) { return QStringLiteral("0x") + QString::number(v, 16).rightJustified(2, QLatin1Char('0')).toUpper(); }

QString typeOfNumberText(quint8 toa) {
    static const char *const names[] = {"unknown", "international", "national", "network specific",
                                        "subscriber", "alphanumeric", "abbreviated", "reserved"};
    return QString::fromLatin1(names[(toa >> 4) & 7]);
}

QString numberingPlanText(quint8 toa) {
    switch (toa & 0x0F) {
    case 0x0: return QStringLiteral("unknown");
    case 0x1: return QStringLiteral("ISDN/telephone (E.164)");
    case 0x3: return QStringLiteral("data (X.121)");
    case 0x4: return QStringLiteral("telex");
    case 0x5: return QStringLiteral("SC specific 1");
    case 0x6: return QStringLiteral("SC specific 2");
    case 0x8: return QStringLiteral("national");
    case 0x9: return QStringLiteral("private");
    case 0xA: return QStringLiteral("ERMES");
    default: return QStringLiteral("reserved");
    }
}

QString encodingName(Encoding e) {
    switch (e) {
    case Encoding::Gsm7: return QStringLiteral("GSM 7-bit");
    case Encoding::EightBit: return QStringLiteral("8-bit data");
    case Encoding::Ucs2: return QStringLiteral("UCS-2");
    }
    return {};
}

QString formatOffset(int seconds) {
    const int m = std::abs(seconds) / 60;
    return QStringLiteral("%1%2:%3").arg(seconds < 0 ? QLatin1Char('-') : QLatin1Char('+'))
        .arg(m / 60, 2, 10, QLatin1Char('0')).arg(m % 60, 2, 10, QLatin1Char('0'));
}

QString formatTime(const QDateTime &dt) {
    return dt.toString(QStringLiteral("yyyy-MM-dd HH:mm:ss ")) + formatOffset(dt.offsetFromUtc());
}

QString quotedText(const QString &text) {
    QString t = text;
    t.replace(QLatin1Char('\r'), QLatin1String("\\r")).replace(QLatin1Char('\n'), QLatin1String("\\n"))
        .replace(QLatin1Char('\f'), QLatin1String("\\f"));
    return QLatin1Char('"') + t + QLatin1Char('"');
}

// Relative validity period (23.040 9.2.3.12.1).
int relativeVpMinutes(quint8 v) {
    if (v <= 143)
        return (v + 1) * 5;
    if (v <= 167)
        return 12 * 60 + (v - 143) * 30;
    if (v <= 196)
        return (v - 166) * 24 * 60;
    return (v - 192) * 7 * 24 * 60;
}

quint8 relativeVpFromMinutes(int minutes) {
    auto ceilDiv = [](int a, int b) { return (a + b - 1) / b; };
    if (minutes <= 5)
        return 0;
    if (minutes <= 12 * 60)
        return quint8(ceilDiv(minutes, 5) - 1);
    if (minutes <= 24 * 60)
        return quint8(143 + ceilDiv(minutes - 12 * 60, 30));
    if (minutes <= 30 * 24 * 60)
        return quint8(166 + ceilDiv(minutes, 24 * 60));
    if (minutes <= 63 * 7 * 24 * 60)
        return quint8(192 + std::max(5, ceilDiv(minutes, 7 * 24 * 60)));
    return 255;
}

QString minutesText(int minutes) {
    if (minutes % (7 * 24 * 60) == 0 && minutes >= 5 * 7 * 24 * 60)
        return QStringLiteral("%1 weeks").arg(minutes / (7 * 24 * 60));
    if (minutes % (24 * 60) == 0 && minutes >= 2 * 24 * 60)
        return QStringLiteral("%1 days").arg(minutes / (24 * 60));
    if (minutes % 60 == 0)
        return QStringLiteral("%1 h").arg(minutes / 60);
    if (minutes > 60)
        return QStringLiteral("%1 h %2 min").arg(minutes / 60).arg(minutes % 60);
    return QStringLiteral("%1 min").arg(minutes);
}

// ---- DCS (23.038 chapter 4) ----

struct DcsInfo {
    Encoding encoding = Encoding::Gsm7;
    std::optional<int> messageClass;
    QString group;
    QString warning;
};

DcsInfo interpretDcs(quint8 dcs) {
    DcsInfo d;
    const int hi = dcs >> 4;
    auto alphabet = [&](int bits) {
        switch (bits) {
        case 0: d.encoding = Encoding::Gsm7; break;
        case 1: d.encoding = Encoding::EightBit; break;
        case 2: d.encoding = Encoding::Ucs2; break;
        default:
            d.encoding = Encoding::Gsm7;
            d.warning = QStringLiteral("reserved alphabet, read as GSM 7-bit");
        }
    };
    if (hi <= 7) {                                   // 00xx / 01xx: general data coding
        d.group = (hi & 4) ? QStringLiteral("general, marked for automatic deletion") : QStringLiteral("general data coding");
        alphabet((dcs >> 2) & 3);
        if (dcs & 0x10)
            d.messageClass = dcs & 3;
        if (dcs & 0x20) {
            d.encoding = Encoding::EightBit;
            d.warning = QStringLiteral("compressed text is not supported, kept as data");
        }
    } else if (hi <= 0xB) {
        d.group = QStringLiteral("reserved coding group");
        d.warning = QStringLiteral("reserved coding group, read as GSM 7-bit");
    } else if (hi == 0xC) {
        d.group = QStringLiteral("message waiting indication, discard");
    } else if (hi == 0xD) {
        d.group = QStringLiteral("message waiting indication, store");
    } else if (hi == 0xE) {
        d.group = QStringLiteral("message waiting indication, store (UCS-2)");
        d.encoding = Encoding::Ucs2;
    } else {                                         // 0xF0: data coding / message class
        d.group = QStringLiteral("data coding / message class");
        d.encoding = (dcs & 0x04) ? Encoding::EightBit : Encoding::Gsm7;
        d.messageClass = dcs & 3;
    }
    return d;
}

// The DCS for an Sms: its own when that says the same encoding and class, else a general one.
quint8 dcsFor(const Sms &sms) {
    const DcsInfo d = interpretDcs(sms.dcs);
    if (d.encoding == sms.encoding && d.messageClass == sms.messageClass && d.warning.isEmpty())
        return sms.dcs;
    const int alphabet = sms.encoding == Encoding::Gsm7 ? 0 : sms.encoding == Encoding::EightBit ? 1 : 2;
    quint8 dcs = quint8(alphabet << 2);
    if (sms.messageClass && *sms.messageClass >= 0 && *sms.messageClass <= 3)
        dcs |= quint8(0x10 | *sms.messageClass);
    return dcs;
}

QString pidText(quint8 pid) {
    if (pid == 0x00)
        return QStringLiteral("default (SME-to-SME)");
    if (pid == 0x40)
        return QStringLiteral("short message type 0 (silent)");
    if (pid >= 0x41 && pid <= 0x47)
        return QStringLiteral("replace short message type %1").arg(pid - 0x40);
    if (pid == 0x5F)
        return QStringLiteral("return call message");
    if (pid == 0x7F)
        return QStringLiteral("(U)SIM data download");
    if ((pid & 0xE0) == 0x20)
        return QStringLiteral("telematic interworking (device type %1)").arg(pid & 0x1F);
    return QStringLiteral("other");
}

// ---- UDH information elements ----

QString ieName(quint8 iei) {
    switch (iei) {
    case 0x00: return QStringLiteral("concatenated SM, 8-bit reference");
    case 0x01: return QStringLiteral("special SMS message indication");
    case 0x04: return QStringLiteral("application port, 8-bit");
    case 0x05: return QStringLiteral("application port, 16-bit");
    case 0x06: return QStringLiteral("SMSC control parameters");
    case 0x07: return QStringLiteral("UDH source indicator");
    case 0x08: return QStringLiteral("concatenated SM, 16-bit reference");
    case 0x09: return QStringLiteral("wireless control message protocol");
    case 0x24: return QStringLiteral("national language single shift");
    case 0x25: return QStringLiteral("national language locking shift");
    default: return QStringLiteral("unknown element");
    }
}

QByteArray concatIe(const Concat &c) {
    QByteArray ie;
    if (c.sixteenBit) {
        ie.append(char(0x08)).append(char(4)).append(char(c.reference >> 8)).append(char(c.reference & 0xFF));
    } else {
        ie.append(char(0x00)).append(char(3)).append(char(c.reference & 0xFF));
    }
    ie.append(char(c.total)).append(char(c.sequence));
    return ie;
}

// ---- swapped BCD ----

QChar bcdDigit(int nibble) {
    static const char digits[] = "0123456789*#abc";
    return QLatin1Char(digits[nibble]);
}

int digitNibble(QChar c) {
    const char16_t u = c.unicode();
    if (u >= '0' && u <= '9')
        return u - '0';
    switch (u) {
    case '*': return 0xA;
    case '#': return 0xB;
    case 'a': case 'A': return 0xC;
    case 'b': case 'B': return 0xD;
    case 'c': case 'C': return 0xE;
    default: return -1;
    }
}

// Digits (without '+') -> swapped BCD with F padding; nullopt on a bad character.
std::optional<QByteArray> packBcd(const QString &digits) {
    QByteArray out((digits.size() + 1) / 2, char(0xFF));
    for (int i = 0; i < digits.size(); ++i) {
        const int n = digitNibble(digits.at(i));
        if (n < 0)
            return std::nullopt;
        uchar &b = reinterpret_cast<uchar &>(out[i / 2]);
        b = (i % 2 == 0) ? uchar((b & 0xF0) | n) : uchar((b & 0x0F) | (n << 4));
    }
    return out;
}

// The digits of an address as the encoders take them: "+49170..." -> "49170...".
QString addressDigits(const Address &a) {
    QString t = a.text;
    if (t.startsWith(QLatin1Char('+')))
        t.remove(0, 1);
    return t;
}

quint8 effectiveToa(const Address &a) {
    if (!a.isAlphanumeric() && a.text.startsWith(QLatin1Char('+')) && (a.toa & 0x70) != 0x10)
        return 0x91;
    return a.toa;
}

// OA/DA/RA: <digits><TOA><BCD or packed GSM-7>. nullopt on a bad character.
std::optional<QByteArray> encodeAddress(const Address &a) {
    QByteArray out;
    const quint8 toa = effectiveToa(a);
    if (a.isAlphanumeric()) {
        if (!isGsm7(a.text))
            return std::nullopt;
        const QByteArray septets = gsm7Septets(a.text);
        const QByteArray packed = packSeptets(septets);
        const int semiOctets = (septets.size() * 7 + 3) / 4;
        if (semiOctets > 255)
            return std::nullopt;
        out.append(char(semiOctets)).append(char(toa)).append(packed);
        return out;
    }
    const QString digits = addressDigits(a);
    if (digits.size() > 255)
        return std::nullopt;
    const auto bcd = packBcd(digits);
    if (!bcd)
        return std::nullopt;
    out.append(char(digits.size())).append(char(toa)).append(*bcd);
    return out;
}

// SMSC field: <octets following><TOA><BCD>, "00" when empty.
std::optional<QByteArray> encodeSmsc(const Address &a) {
    if (a.isEmpty())
        return QByteArray(1, '\0');
    const QString digits = addressDigits(a);
    const auto bcd = packBcd(digits);
    if (!bcd || digits.isEmpty() || bcd->size() > 11)
        return std::nullopt;
    QByteArray out;
    out.append(char(1 + bcd->size())).append(char(effectiveToa(a))).append(*bcd);
    return out;
}

// ---- time stamps ----

int swappedBcd(quint8 b, bool *ok) {
    const int lo = b & 0x0F, hi = b >> 4;
    if (lo > 9 || hi > 9)
        *ok = false;
    return lo * 10 + hi;
}

QByteArray encodeTimestamp(const QDateTime &dt) {
    QByteArray out(7, '\0');
    if (!dt.isValid())
        return out;
    auto put = [&](int i, int v) { out[i] = char(((v % 10) << 4) | (v / 10 % 10)); };
    const QDate d = dt.date();
    const QTime t = dt.time();
    put(0, d.year() % 100);
    put(1, d.month());
    put(2, d.day());
    put(3, t.hour());
    put(4, t.minute());
    put(5, t.second());
    int quarters = dt.offsetFromUtc() / 900;
    const bool negative = quarters < 0;
    quarters = std::min(std::abs(quarters), 79);
    out[6] = char(((quarters % 10) << 4) | (quarters / 10) | (negative ? 0x08 : 0));
    return out;
}

// ---- user data building (encoders) ----

// UD for one part: UDHL+UDH (when udh is not empty), then the payload. *udl as 23.040 counts it.
QByteArray buildUserData(Encoding enc, const QByteArray &udh, const QString &text, const QByteArray &data, int *udl) {
    QByteArray ud;
    const int headerOctets = udh.isEmpty() ? 0 : int(udh.size()) + 1;
    if (!udh.isEmpty())
        ud.append(char(udh.size())).append(udh);
    switch (enc) {
    case Encoding::Gsm7: {
        const int udhSeptets = (headerOctets * 8 + 6) / 7;
        const int fill = udhSeptets * 7 - headerOctets * 8;
        const QByteArray septets = gsm7Septets(text);
        ud.append(packSeptets(septets, fill));
        *udl = udhSeptets + int(septets.size());
        break;
    }
    case Encoding::EightBit:
        ud.append(data);
        *udl = int(ud.size());
        break;
    case Encoding::Ucs2:
        for (QChar c : text)
            ud.append(char(c.unicode() >> 8)).append(char(c.unicode() & 0xFF));
        *udl = int(ud.size());
        break;
    }
    return ud;
}

// Text cut so that it fits `capacity` units (septets or UTF-16 units) on a character
// boundary: never between an escape and its character, never inside a surrogate pair.
int fittingChars(const QString &text, Encoding enc, int capacity, int from = 0) {
    int used = 0;
    int i = from;
    while (i < text.size()) {
        int chars = 1, cost = 1;
        if (text.at(i).isHighSurrogate() && i + 1 < text.size() && text.at(i + 1).isLowSurrogate())
            chars = 2;
        if (enc == Encoding::Gsm7)
            cost = std::max(1, gsm7Cost(text.at(i)));
        else
            cost = chars;
        if (used + cost > capacity)
            break;
        used += cost;
        i += chars;
    }
    return i - from;
}

int textUnits(const QString &text, Encoding enc) {
    if (enc != Encoding::Gsm7)
        return int(text.size());
    int n = 0;
    for (QChar c : text)
        n += std::max(1, gsm7Cost(c));
    return n;
}

// Splits a text into parts of at most `single` units (one part) or `perPart` units.
QStringList splitText(const QString &text, Encoding enc, int single, int perPart) {
    if (textUnits(text, enc) <= single)
        return {text};
    QStringList parts;
    int at = 0;
    while (at < text.size()) {
        const int n = std::max(1, fittingChars(text, enc, perPart, at));
        parts.append(text.mid(at, n));
        at += n;
    }
    return parts;
}

struct Capacity {
    int single;
    int perPart;
};
Capacity capacity(Encoding enc, bool sixteenBitRef) {
    const int udhOctets = sixteenBitRef ? 7 : 6;
    switch (enc) {
    case Encoding::Gsm7: return {160, (140 * 8 - ((udhOctets * 8 + 6) / 7) * 7) / 7};
    case Encoding::Ucs2: return {70, (140 - udhOctets) / 2};
    case Encoding::EightBit: return {140, 140 - udhOctets};
    }
    return {160, 153};
}

// ---- the parser (decode + annotate) ----

class Parser {
public:
    Parser(const QByteArray &bytes, bool annotate) : b(bytes), annotating(annotate) {}

    bool run(bool hasSmsc) {
        if (b.isEmpty())
            return fail(QStringLiteral("empty PDU"));
        if (hasSmsc && !parseSmsc())
            return false;
        if (!need(1, QStringLiteral("first octet")))
            return false;
        const quint8 fo = u8(pos);
        const int mti = fo & 3;
        if (mti == 3)
            return fail(QStringLiteral("reserved message type (TP-MTI 3) in first octet %1").arg(hexByte(fo)));
        sms.firstOctet = fo;
        sms.type = mti == 0 ? PduType::Deliver : mti == 1 ? PduType::Submit : PduType::StatusReport;
        addFirstOctet(fo);
        pos += 1;
        switch (sms.type) {
        case PduType::Deliver: return parseDeliver(fo);
        case PduType::Submit: return parseSubmit(fo);
        case PduType::StatusReport: return parseStatusReport(fo);
        }
        return false;
    }

    Sms sms;
    QList<Field> fields;
    QString error;

private:
    const QByteArray &b;
    const bool annotating;
    int pos = 0;

    quint8 u8(int at) const { return quint8(b.at(at)); }
    int remaining() const { return int(b.size()) - pos; }

    bool fail(const QString &message) {
        error = QStringLiteral("PDU: ") + message;
        return false;
    }
    bool need(int n, const QString &what) {
        if (remaining() >= n)
            return true;
        return fail(QStringLiteral("%1 at byte %2 runs past the end (%3 bytes)").arg(what).arg(pos).arg(b.size()));
    }
    void warn(const QString &w, Field *field = nullptr) {
        sms.warnings.append(w);
        if (field)
            field->warning = field->warning.isEmpty() ? w : field->warning + QLatin1String("; ") + w;
    }
    Field *add(Field f) {
        if (!annotating)
            return nullptr;
        fields.append(std::move(f));
        return &fields.last();
    }
    static void child(Field *parent, Field f) {
        if (parent)
            parent->add(std::move(f));
    }

    // ---- SMSC ----
    bool parseSmsc() {
        const int len = u8(pos);
        if (len == 0) {
            add(makeField(pos, 1, QStringLiteral("SMSC"), QStringLiteral("none (the modem's AT+CSCA)")));
            pos += 1;
            return true;
        }
        if (len > 12)
            return fail(QStringLiteral("SMSC length %1 is too long (at most 12 octets)").arg(len));
        if (!need(1 + len, QStringLiteral("SMSC length %1").arg(len)))
            return false;
        const quint8 toa = u8(pos + 1);
        const QString digits = bcdDigits(pos + 2, (len - 1) * 2, nullptr);
        sms.smsc.toa = toa;
        sms.smsc.text = ((toa & 0x70) == 0x10 && !digits.isEmpty() ? QStringLiteral("+") : QString()) + digits;
        Field *f = add(makeField(pos, 1 + len, QStringLiteral("SMSC"), sms.smsc.text));
        child(f, makeField(pos, 1, QStringLiteral("Length"), QStringLiteral("%1 octets").arg(len)));
        child(f, toaField(pos + 1, toa));
        if (len > 1)
            child(f, makeField(pos + 2, len - 1, QStringLiteral("Number"), sms.smsc.text));
        pos += 1 + len;
        return true;
    }

    // Swapped BCD digits from `count` semi-octets; F padding ends the number.
    QString bcdDigits(int at, int count, Field *field) {
        QString out;
        bool filler = false;
        for (int i = 0; i < count; ++i) {
            const quint8 byte = u8(at + i / 2);
            const int nibble = (i % 2 == 0) ? (byte & 0x0F) : (byte >> 4);
            if (nibble == 0xF) {
                filler = true;
                continue;
            }
            if (filler) {
                warn(QStringLiteral("digit after an F filler in a number"), field);
                filler = false;
            }
            out.append(bcdDigit(nibble));
        }
        return out;
    }

    static Field toaField(int at, quint8 toa) {
        Field f = makeField(at, 1, QStringLiteral("Type of address"),
                            QStringLiteral("%1: %2, %3").arg(hexByte(toa), typeOfNumberText(toa), numberingPlanText(toa)));
        f.add(makeField(at, 1, QStringLiteral("Type of number"), QStringLiteral("%1 %2 (bits 6-4)").arg((toa >> 4) & 7).arg(typeOfNumberText(toa))));
        f.add(makeField(at, 1, QStringLiteral("Numbering plan"), QStringLiteral("%1 %2 (bits 3-0)").arg(toa & 0x0F).arg(numberingPlanText(toa))));
        return f;
    }

    // ---- OA / DA / RA ----
    bool parseAddress(const QString &name, Address *out) {
        if (!need(2, name + QStringLiteral(" length and type")))
            return false;
        const int digits = u8(pos);
        const quint8 toa = u8(pos + 1);
        const int octets = (digits + 1) / 2;
        if (remaining() < 2 + octets)
            return fail(QStringLiteral("%1 length %2 runs past the end (%3 bytes)").arg(name.toLower()).arg(digits).arg(b.size()));
        Field *f = add(makeField(pos, 2 + octets, name));
        out->toa = toa;
        if ((toa & 0x70) == 0x50) {
            const QByteArray packed = b.mid(pos + 2, octets);
            out->text = gsm7Text(unpackSeptets(packed, digits * 4 / 7));
        } else {
            const QString d = bcdDigits(pos + 2, digits, f);
            out->text = ((toa & 0x70) == 0x10 && !d.isEmpty() ? QStringLiteral("+") : QString()) + d;
        }
        if (digits > 20)
            warn(QStringLiteral("%1 has %2 semi-octets (at most 20 allowed)").arg(name).arg(digits), f);
        if (f) {
            f->value = out->isAlphanumeric() ? quotedText(out->text) : out->text;
            f->add(makeField(pos, 1, QStringLiteral("Length"),
                             out->isAlphanumeric() ? QStringLiteral("%1 semi-octets").arg(digits) : QStringLiteral("%1 digits").arg(digits)));
            f->add(toaField(pos + 1, toa));
            if (octets > 0)
                f->add(makeField(pos + 2, octets, out->isAlphanumeric() ? QStringLiteral("Name (GSM 7-bit)") : QStringLiteral("Number"),
                                 f->value));
        }
        pos += 2 + octets;
        return true;
    }

    // ---- first octet ----
    void addFirstOctet(quint8 fo) {
        if (!annotating)
            return;
        static const char *const mtiNames[] = {"SMS-DELIVER", "SMS-SUBMIT", "SMS-STATUS-REPORT", "reserved"};
        const int mti = fo & 3;
        Field *f = add(makeField(pos, 1, QStringLiteral("First octet"), QStringLiteral("%1 %2").arg(hexByte(fo), QLatin1String(mtiNames[mti]))));
        auto bit = [&](const QString &name, int shift, const QString &meaning) {
            f->add(makeField(pos, 1, name, QStringLiteral("%1 %2 (bit %3)").arg((fo >> shift) & 1).arg(meaning).arg(shift)));
        };
        f->add(makeField(pos, 1, QStringLiteral("TP-MTI"), QStringLiteral("%1 %2 (bits 1-0)").arg(mti).arg(QLatin1String(mtiNames[mti]))));
        if (mti == 1) {
            bit(QStringLiteral("TP-RD"), 2, (fo & 0x04) ? QStringLiteral("reject duplicates") : QStringLiteral("accept duplicates"));
            static const char *const vpf[] = {"no validity period", "enhanced", "relative", "absolute"};
            f->add(makeField(pos, 1, QStringLiteral("TP-VPF"), QStringLiteral("%1 %2 (bits 4-3)").arg((fo >> 3) & 3).arg(QLatin1String(vpf[(fo >> 3) & 3]))));
            bit(QStringLiteral("TP-SRR"), 5, (fo & 0x20) ? QStringLiteral("status report requested") : QStringLiteral("no status report"));
        } else {
            bit(QStringLiteral("TP-MMS"), 2, (fo & 0x04) ? QStringLiteral("no more messages waiting") : QStringLiteral("more messages waiting"));
            bit(QStringLiteral("TP-LP"), 3, (fo & 0x08) ? QStringLiteral("forwarded or spawned") : QStringLiteral("no loop prevention"));
            if (mti == 0)
                bit(QStringLiteral("TP-SRI"), 5, (fo & 0x20) ? QStringLiteral("status report will be returned") : QStringLiteral("no status report"));
            else
                bit(QStringLiteral("TP-SRQ"), 5, (fo & 0x20) ? QStringLiteral("result of a COMMAND") : QStringLiteral("result of a SUBMIT"));
        }
        bit(QStringLiteral("TP-UDHI"), 6, (fo & 0x40) ? QStringLiteral("user data header present") : QStringLiteral("no user data header"));
        if (mti != 2)
            bit(QStringLiteral("TP-RP"), 7, (fo & 0x80) ? QStringLiteral("reply path set") : QStringLiteral("no reply path"));
    }

    // ---- simple octets ----
    bool parseMessageReference() {
        if (!need(1, QStringLiteral("message reference")))
            return false;
        sms.messageReference = u8(pos);
        add(makeField(pos, 1, QStringLiteral("Message reference"), QString::number(sms.messageReference)));
        pos += 1;
        return true;
    }

    bool parsePid() {
        if (!need(1, QStringLiteral("PID")))
            return false;
        sms.pid = u8(pos);
        add(makeField(pos, 1, QStringLiteral("PID"), QStringLiteral("%1 %2").arg(hexByte(sms.pid), pidText(sms.pid))));
        pos += 1;
        return true;
    }

    bool parseDcs() {
        if (!need(1, QStringLiteral("DCS")))
            return false;
        sms.dcs = u8(pos);
        const DcsInfo d = interpretDcs(sms.dcs);
        sms.encoding = d.encoding;
        sms.messageClass = d.messageClass;
        QString value = QStringLiteral("%1 %2").arg(hexByte(sms.dcs), encodingName(d.encoding));
        if (d.messageClass)
            value += QStringLiteral(", class %1%2").arg(*d.messageClass).arg(*d.messageClass == 0 ? QStringLiteral(" (flash)") : QString());
        Field *f = add(makeField(pos, 1, QStringLiteral("DCS"), value));
        child(f, makeField(pos, 1, QStringLiteral("Coding group"), d.group));
        child(f, makeField(pos, 1, QStringLiteral("Alphabet"), encodingName(d.encoding)));
        child(f, makeField(pos, 1, QStringLiteral("Message class"),
                           d.messageClass ? QString::number(*d.messageClass) : QStringLiteral("none")));
        if (!d.warning.isEmpty())
            warn(QStringLiteral("DCS %1: %2").arg(hexByte(sms.dcs), d.warning), f);
        pos += 1;
        return true;
    }

    bool parseTimestamp(const QString &name, QDateTime *out) {
        if (!need(7, name))
            return false;
        bool ok = true;
        const int year = 2000 + swappedBcd(u8(pos), &ok);
        const int month = swappedBcd(u8(pos + 1), &ok);
        const int day = swappedBcd(u8(pos + 2), &ok);
        const int hour = swappedBcd(u8(pos + 3), &ok);
        const int minute = swappedBcd(u8(pos + 4), &ok);
        const int second = swappedBcd(u8(pos + 5), &ok);
        const quint8 tzByte = u8(pos + 6);
        const int tzTens = tzByte & 0x07, tzUnits = tzByte >> 4;
        int quarters = tzTens * 10 + tzUnits;
        if (tzByte & 0x08)
            quarters = -quarters;
        Field *f = add(makeField(pos, 7, name));
        const QDate date(year, month, day);
        const QTime time(hour, minute, second);
        if (!ok || !date.isValid() || !time.isValid()) {
            warn(QStringLiteral("%1 is not a valid date (%2)").arg(name, toHex(b.mid(pos, 7))), f);
        } else {
            int offset = quarters * 15 * 60;
            if (tzUnits > 9 || std::abs(quarters) > 56) {
                warn(QStringLiteral("%1 time zone %2 is out of range, taken as UTC").arg(name, hexByte(tzByte)), f);
                offset = 0;
            }
            *out = QDateTime(date, time, QTimeZone::fromSecondsAheadOfUtc(offset));
        }
        if (f) {
            f->value = out->isValid() ? formatTime(*out) : QStringLiteral("invalid");
            f->add(makeField(pos, 6, QStringLiteral("Date and time"),
                             QStringLiteral("%1-%2-%3 %4:%5:%6").arg(year % 100 + 2000).arg(month, 2, 10, QLatin1Char('0'))
                                 .arg(day, 2, 10, QLatin1Char('0')).arg(hour, 2, 10, QLatin1Char('0'))
                                 .arg(minute, 2, 10, QLatin1Char('0')).arg(second, 2, 10, QLatin1Char('0'))));
            f->add(makeField(pos + 6, 1, QStringLiteral("Time zone"),
                             QStringLiteral("%1 quarter hours (%2), sign bit 3 = %3").arg(quarters)
                                 .arg(formatOffset(quarters * 900)).arg((tzByte >> 3) & 1)));
        }
        pos += 7;
        return true;
    }

    bool parseValidity(quint8 fo) {
        const int vpf = (fo >> 3) & 3;
        if (vpf == 0)
            return true;
        if (vpf == 2) {
            if (!need(1, QStringLiteral("validity period")))
                return false;
            const quint8 v = u8(pos);
            sms.validityMinutes = relativeVpMinutes(v);
            add(makeField(pos, 1, QStringLiteral("Validity period"),
                          QStringLiteral("%1 relative: %2").arg(v).arg(minutesText(*sms.validityMinutes))));
            pos += 1;
            return true;
        }
        if (!need(7, QStringLiteral("validity period")))
            return false;
        if (vpf == 3) {
            QDateTime until;
            Parser sub(b, annotating);   // reuse the SCTS reader on the same bytes
            sub.pos = pos;
            sub.parseTimestamp(QStringLiteral("Validity period (absolute)"), &until);
            for (const QString &w : std::as_const(sub.sms.warnings))
                warn(w);
            if (annotating && !sub.fields.isEmpty())
                fields.append(sub.fields.first());
        } else {
            const quint8 func = u8(pos);
            QString value = QStringLiteral("enhanced, format %1").arg(func & 7);
            if ((func & 7) == 1) {
                sms.validityMinutes = relativeVpMinutes(u8(pos + 1));
                value += QStringLiteral(", relative: %1").arg(minutesText(*sms.validityMinutes));
            } else if ((func & 7) == 2) {
                sms.validityMinutes = std::max(1, (u8(pos + 1) + 59) / 60);
                value += QStringLiteral(", %1 s").arg(u8(pos + 1));
            }
            add(makeField(pos, 7, QStringLiteral("Validity period"), value));
        }
        pos += 7;
        return true;
    }

    // ---- UDL + UD ----
    bool parseUserData(quint8 fo) {
        if (!need(1, QStringLiteral("UDL")))
            return false;
        const int udl = u8(pos);
        const bool gsm7 = sms.encoding == Encoding::Gsm7;
        Field *udlField = add(makeField(pos, 1, QStringLiteral("UDL"),
                                        gsm7 ? QStringLiteral("%1 septets").arg(udl) : QStringLiteral("%1 octets").arg(udl)));
        pos += 1;
        const int start = pos;
        const int available = remaining();
        int needed = gsm7 ? (udl * 7 + 7) / 8 : udl;
        int septets = udl;
        const bool clamped = needed > available;
        if (clamped) {
            warn(QStringLiteral("UDL %1 needs %2 octets of user data, only %3 present: clamped").arg(udl).arg(needed).arg(available), udlField);
            needed = available;
            septets = available * 8 / 7;
        }
        if (gsm7 ? udl > 160 : udl > 140)
            warn(QStringLiteral("UDL %1 is more than one SMS can carry").arg(udl), udlField);

        int headerOctets = 0;
        if (fo & 0x40) {
            if (needed == 0) {
                warn(QStringLiteral("UDHI set but there is no user data"), udlField);
            } else {
                const int udhl = u8(start);
                headerOctets = udhl + 1;
                if (headerOctets > needed)
                    return fail(QStringLiteral("UDH length %1 runs past the user data (%2 octets)").arg(udhl).arg(needed));
                parseUdh(start, udhl);
            }
        }
        const int payloadAt = start + headerOctets;
        const int payloadOctets = needed - headerOctets;
        QString valueSuffix;
        if (gsm7) {
            const int udhSeptets = (headerOctets * 8 + 6) / 7;
            const int fill = udhSeptets * 7 - headerOctets * 8;
            int textSeptets = septets - udhSeptets;
            if (textSeptets < 0 && clamped)
                textSeptets = 0;       // cut right after the UDH: no text, the clamp warned
            if (textSeptets < 0)
                return fail(QStringLiteral("UDH (%1 septets) is longer than UDL %2").arg(udhSeptets).arg(udl));
            sms.text = gsm7Text(unpackSeptets(b.mid(payloadAt, payloadOctets), textSeptets, fill));
            valueSuffix = QStringLiteral("%1 septets%2").arg(textSeptets)
                              .arg(fill ? QStringLiteral(", %1 fill bit%2").arg(fill).arg(fill > 1 ? QLatin1String("s") : QLatin1String("")) : QString());
        } else if (sms.encoding == Encoding::Ucs2) {
            int n = payloadOctets;
            if (n % 2) {
                warn(QStringLiteral("UCS-2 user data has an odd number of octets (%1): last one dropped").arg(n));
                --n;
            }
            sms.text.reserve(n / 2);
            for (int i = 0; i < n; i += 2)
                sms.text.append(QChar(char16_t((u8(payloadAt + i) << 8) | u8(payloadAt + i + 1))));
            valueSuffix = QStringLiteral("%1 UTF-16 units").arg(n / 2);
        } else {
            sms.data = b.mid(payloadAt, payloadOctets);
            valueSuffix = QStringLiteral("%1 octets").arg(payloadOctets);
        }
        if (annotating && payloadOctets > 0) {
            const QString value = sms.encoding == Encoding::EightBit ? toHex(sms.data, ' ') : quotedText(sms.text);
            add(makeField(payloadAt, payloadOctets, QStringLiteral("User data"), value + QStringLiteral(" (") + valueSuffix + QLatin1Char(')')));
        }
        pos = start + needed;
        if (remaining() > 0) {
            Field *t = add(makeField(pos, remaining(), QStringLiteral("Trailing bytes"), toHex(b.mid(pos), ' ')));
            warn(QStringLiteral("%1 bytes after the user data ignored").arg(remaining()), t);
            pos = int(b.size());
        }
        return true;
    }

    void parseUdh(int at, int udhl) {
        sms.userDataHeader = b.mid(at + 1, udhl);
        Field *f = add(makeField(at, udhl + 1, QStringLiteral("UDH")));
        child(f, makeField(at, 1, QStringLiteral("UDH length"), QStringLiteral("%1 octets").arg(udhl)));
        int p = at + 1;
        const int end = at + 1 + udhl;
        QStringList summary;
        while (p < end) {
            const quint8 iei = u8(p);
            if (p + 2 > end || p + 2 + u8(p + 1) > end) {
                warn(QStringLiteral("UDH information element %1 runs past the header").arg(hexByte(iei)));
                child(f, makeField(p, end - p, QStringLiteral("Truncated element"), toHex(b.mid(p, end - p), ' ')));
                break;
            }
            const int iel = u8(p + 1);
            Field ie = makeField(p, 2 + iel, QStringLiteral("IE %1").arg(hexByte(iei)), ieName(iei));
            ie.add(makeField(p, 1, QStringLiteral("Identifier"), QStringLiteral("%1 %2").arg(hexByte(iei), ieName(iei))));
            ie.add(makeField(p + 1, 1, QStringLiteral("Length"), QString::number(iel)));
            const int d = p + 2;
            if (iei == 0x00 || iei == 0x08) {
                const bool wide = iei == 0x08;
                if (iel != (wide ? 4 : 3)) {
                    warn(QStringLiteral("concatenation element with length %1 ignored").arg(iel));
                    ie.warning = sms.warnings.last();
                } else {
                    Concat c;
                    c.sixteenBit = wide;
                    c.reference = wide ? quint16((u8(d) << 8) | u8(d + 1)) : u8(d);
                    c.total = u8(d + (wide ? 2 : 1));
                    c.sequence = u8(d + (wide ? 3 : 2));
                    ie.add(makeField(d, wide ? 2 : 1, QStringLiteral("Reference"), QString::number(c.reference)));
                    ie.add(makeField(d + (wide ? 2 : 1), 1, QStringLiteral("Parts"), QString::number(c.total)));
                    ie.add(makeField(d + (wide ? 3 : 2), 1, QStringLiteral("Sequence"), QString::number(c.sequence)));
                    ie.value = QStringLiteral("%1: part %2 of %3, reference %4").arg(ieName(iei)).arg(c.sequence).arg(c.total).arg(c.reference);
                    if (c.total == 0 || c.sequence == 0 || c.sequence > c.total) {
                        warn(QStringLiteral("concatenation part %1 of %2 is impossible: not concatenated").arg(c.sequence).arg(c.total));
                        ie.warning = sms.warnings.last();
                    } else if (!sms.concat) {
                        sms.concat = c;
                        summary.append(QStringLiteral("part %1 of %2").arg(c.sequence).arg(c.total));
                    }
                }
            } else {
                if (iel > 0)
                    ie.add(makeField(d, iel, QStringLiteral("Data"), toHex(b.mid(d, iel), ' ')));
                if (iei == 0x05 && iel == 4)
                    ie.value = QStringLiteral("%1: destination port %2, source port %3").arg(ieName(iei))
                                   .arg((u8(d) << 8) | u8(d + 1)).arg((u8(d + 2) << 8) | u8(d + 3));
                else if (iei == 0x04 && iel == 2)
                    ie.value = QStringLiteral("%1: destination port %2, source port %3").arg(ieName(iei)).arg(u8(d)).arg(u8(d + 1));
            }
            child(f, std::move(ie));
            p += 2 + iel;
        }
        if (f)
            f->value = summary.isEmpty() ? QStringLiteral("%1 octets").arg(udhl) : summary.join(QLatin1String(", "));
    }

    // ---- the three layouts ----
    bool parseDeliver(quint8 fo) {
        sms.statusReportRequested = fo & 0x20;
        return parseAddress(QStringLiteral("Originator"), &sms.address) && parsePid() && parseDcs()
            && parseTimestamp(QStringLiteral("SCTS"), &sms.timestamp) && parseUserData(fo);
    }

    bool parseSubmit(quint8 fo) {
        sms.statusReportRequested = fo & 0x20;
        return parseMessageReference() && parseAddress(QStringLiteral("Destination"), &sms.address) && parsePid()
            && parseDcs() && parseValidity(fo) && parseUserData(fo);
    }

    bool parseStatusReport(quint8 fo) {
        if (!(parseMessageReference() && parseAddress(QStringLiteral("Recipient"), &sms.address)
              && parseTimestamp(QStringLiteral("SCTS"), &sms.timestamp)
              && parseTimestamp(QStringLiteral("Discharge time"), &sms.dischargeTime)))
            return false;
        if (!need(1, QStringLiteral("status")))
            return false;
        sms.status = u8(pos);
        add(makeField(pos, 1, QStringLiteral("Status"), QStringLiteral("%1 %2").arg(hexByte(sms.status), deliveryStatusText(sms.status))));
        pos += 1;
        if (remaining() == 0)
            return true;
        // Optional TP-PI and what it announces (23.040 9.2.2.3).
        const quint8 pi = u8(pos);
        Field *f = add(makeField(pos, 1, QStringLiteral("Parameter indicator"), hexByte(pi)));
        pos += 1;
        if (pi & 0x78)
            warn(QStringLiteral("parameter indicator %1 has reserved bits set").arg(hexByte(pi)), f);
        if (pi & 0x01) {
            if (!need(1, QStringLiteral("PID")))
                return false;
            parsePid();
        }
        if (pi & 0x02) {
            if (!need(1, QStringLiteral("DCS")))
                return false;
            parseDcs();
        }
        if (pi & 0x04)
            return parseUserData(fo);
        if (remaining() > 0) {
            Field *t = add(makeField(pos, remaining(), QStringLiteral("Trailing bytes"), toHex(b.mid(pos), ' ')));
            warn(QStringLiteral("%1 bytes after the status report ignored").arg(remaining()), t);
            pos = int(b.size());
        }
        return true;
    }
};

QString partKey(const Sms &sms) {
    return QStringLiteral("%1|%2|%3").arg(sms.address.text).arg(sms.concat->reference).arg(sms.concat->total);
}

} // namespace

// ---- Address ----

std::optional<Address> Address::fromUser(const QString &number, QString *error) {
    auto fail = [&](const QString &e) -> std::optional<Address> {
        if (error)
            *error = e;
        return std::nullopt;
    };
    const QString t = number.trimmed();
    if (t.isEmpty())
        return fail(QStringLiteral("empty phone number"));
    bool letters = false;
    for (QChar c : t)
        if (c.isLetter())
            letters = true;
    const QString compact = [&] {
        QString s;
        for (QChar c : t)
            if (!(c.isSpace() || c == QLatin1Char('-') || c == QLatin1Char('(') || c == QLatin1Char(')')
                  || c == QLatin1Char('.') || c == QLatin1Char('/')))
                s.append(c);
        return s;
    }();
    const bool dialLike = compact.startsWith(QLatin1Char('+')) || (!compact.isEmpty() && compact.at(0).isDigit());
    if (letters && !dialLike) {
        if (!isGsm7(t))
            return fail(QStringLiteral("sender name \"%1\" has characters outside the GSM alphabet").arg(t));
        if (gsm7Septets(t).size() > 11)
            return fail(QStringLiteral("sender name \"%1\" is longer than 11 characters").arg(t));
        return Address{t, 0xD0};
    }
    const bool international = compact.startsWith(QLatin1Char('+'));
    const QString digits = international ? compact.mid(1) : compact;
    if (digits.isEmpty())
        return fail(QStringLiteral("no digits in \"%1\"").arg(t));
    for (QChar c : digits)
        if (!(c.isDigit() && c.unicode() < 0x80) && c != QLatin1Char('*') && c != QLatin1Char('#'))
            return fail(QStringLiteral("invalid character '%1' in phone number \"%2\"").arg(c).arg(t));
    if (digits.size() > 20)
        return fail(QStringLiteral("phone number \"%1\" has more than 20 digits").arg(t));
    if (international)
        return Address{QLatin1Char('+') + digits, 0x91};
    return Address{digits, 0x81};
}

// ---- status reports ----

DeliveryState deliveryState(quint8 st) {
    if (st <= 0x1F)
        return DeliveryState::Delivered;
    if (st <= 0x3F)
        return DeliveryState::Pending;
    return DeliveryState::Failed;
}

QString deliveryStatusText(quint8 st) {
    static const struct { quint8 code; const char *text; } table[] = {
        {0x00, "delivered"},
        {0x01, "delivered: forwarded, delivery not confirmed"},
        {0x02, "delivered: replaced by the SC"},
        {0x20, "SC still trying: congestion"},
        {0x21, "SC still trying: recipient busy"},
        {0x22, "SC still trying: no response from recipient"},
        {0x23, "SC still trying: service rejected"},
        {0x24, "SC still trying: quality of service not available"},
        {0x25, "SC still trying: error in recipient"},
        {0x40, "failed: remote procedure error"},
        {0x41, "failed: incompatible destination"},
        {0x42, "failed: connection rejected by recipient"},
        {0x43, "failed: not obtainable"},
        {0x44, "failed: quality of service not available"},
        {0x45, "failed: no interworking available"},
        {0x46, "failed: validity period expired"},
        {0x47, "failed: deleted by the sender"},
        {0x48, "failed: deleted by the SC administration"},
        {0x49, "failed: message does not exist"},
        {0x60, "failed, SC gave up: congestion"},
        {0x61, "failed, SC gave up: recipient busy"},
        {0x62, "failed, SC gave up: no response from recipient"},
        {0x63, "failed, SC gave up: service rejected"},
        {0x64, "failed, SC gave up: quality of service not available"},
        {0x65, "failed, SC gave up: error in recipient"},
    };
    for (const auto &e : table)
        if (e.code == st)
            return QString::fromLatin1(e.text);
    switch (deliveryState(st)) {
    case DeliveryState::Delivered: return QStringLiteral("delivered (status %1)").arg(hexByte(st));
    case DeliveryState::Pending: return QStringLiteral("SC still trying (status %1)").arg(hexByte(st));
    case DeliveryState::Failed: break;
    }
    if (st >= 0x80)
        return QStringLiteral("failed: reserved status %1").arg(hexByte(st));
    return QStringLiteral("failed (status %1)").arg(hexByte(st));
}

// ---- decode / annotate ----

std::optional<Sms> decode(const QByteArray &bytes, bool hasSmsc, QString *error) {
    Parser p(bytes, false);
    if (!p.run(hasSmsc)) {
        if (error)
            *error = p.error;
        return std::nullopt;
    }
    return p.sms;
}

std::optional<Sms> decodeHex(const QByteArray &hex, bool hasSmsc, QString *error) {
    const QByteArray t = hex.trimmed();
    for (int i = 0; i < t.size(); ++i) {
        const char c = t.at(i);
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f'))) {
            if (error)
                *error = QStringLiteral("PDU: not hexadecimal (character %1 at %2)").arg(hexByte(quint8(c))).arg(i);
            return std::nullopt;
        }
    }
    if (t.size() % 2) {
        if (error)
            *error = QStringLiteral("PDU: odd number of hex digits (%1)").arg(t.size());
        return std::nullopt;
    }
    return decode(QByteArray::fromHex(t), hasSmsc, error);
}

QList<Field> annotate(const QByteArray &bytes, bool hasSmsc) {
    Parser p(bytes, true);
    if (!p.run(hasSmsc))
        return {};
    return p.fields;
}

// ---- encoders ----

QList<EncodedPdu> encodeSubmit(const Address &to, const QString &text, const SubmitOptions &options, QString *error) {
    auto fail = [&](const QString &e) {
        if (error)
            *error = e;
        return QList<EncodedPdu>();
    };
    if (to.isEmpty())
        return fail(QStringLiteral("no destination number"));
    if (to.isAlphanumeric())
        return fail(QStringLiteral("cannot send to an alphanumeric address (\"%1\")").arg(to.text));
    const auto da = encodeAddress(to);
    const QString daDigits = addressDigits(to);
    const bool dialable = std::all_of(daDigits.begin(), daDigits.end(), [](QChar c) {
        return (c >= QLatin1Char('0') && c <= QLatin1Char('9')) || c == QLatin1Char('*') || c == QLatin1Char('#');
    });
    if (!da || !dialable || daDigits.isEmpty() || daDigits.size() > 20)
        return fail(QStringLiteral("invalid destination number \"%1\"").arg(to.text));
    const auto smsc = encodeSmsc(options.smsc);
    if (!smsc || options.smsc.isAlphanumeric())
        return fail(QStringLiteral("invalid SMSC number \"%1\"").arg(options.smsc.text));

    const Encoding enc = (options.forceUcs2 || !isGsm7(text)) ? Encoding::Ucs2 : Encoding::Gsm7;
    const Capacity cap = capacity(enc, options.sixteenBitReference);
    const QStringList parts = splitText(text, enc, cap.single, cap.perPart);
    if (parts.size() > 255)
        return fail(QStringLiteral("text too long: %1 parts (at most 255)").arg(parts.size()));

    QList<EncodedPdu> out;
    for (int i = 0; i < parts.size(); ++i) {
        const bool multi = parts.size() > 1;
        quint8 fo = 0x01;
        if (options.validityMinutes)
            fo |= 0x10;
        if (options.requestStatusReport)
            fo |= 0x20;
        if (multi)
            fo |= 0x40;
        QByteArray udh;
        if (multi) {
            Concat c;
            c.reference = options.sixteenBitReference ? options.concatReference : (options.concatReference & 0xFF);
            c.total = quint8(parts.size());
            c.sequence = quint8(i + 1);
            c.sixteenBit = options.sixteenBitReference;
            udh = concatIe(c);
        }
        int udl = 0;
        const QByteArray ud = buildUserData(enc, udh, parts.at(i), {}, &udl);
        QByteArray tpdu;
        tpdu.append(char(fo)).append(char(options.messageReference)).append(*da);
        tpdu.append(char(0x00)).append(char(enc == Encoding::Ucs2 ? 0x08 : 0x00));
        if (options.validityMinutes)
            tpdu.append(char(relativeVpFromMinutes(std::max(0, *options.validityMinutes))));
        tpdu.append(char(udl)).append(ud);
        EncodedPdu pdu;
        pdu.bytes = *smsc + tpdu;
        pdu.tpduLength = int(tpdu.size());
        out.append(pdu);
    }
    return out;
}

QByteArray encode(const Sms &sms) {
    QByteArray out = encodeSmsc(sms.smsc).value_or(QByteArray(1, '\0'));
    // The UDH: the raw one when given, else one made from the concat element.
    QByteArray udh = sms.userDataHeader;
    if (udh.isEmpty() && sms.concat && sms.concat->total > 1)
        udh = concatIe(*sms.concat);
    if (udh.size() > 137)
        udh.truncate(137);
    const int mti = sms.type == PduType::Deliver ? 0 : sms.type == PduType::Submit ? 1 : 2;
    // Bits kept from firstOctet: DELIVER RP, LP, MMS; SUBMIT RP, RD (its bits 4-3 are the
    // VPF, set from validityMinutes); STATUS-REPORT SRQ, LP, MMS. The rest is set here.
    static const quint8 kept[] = {0x8C, 0x84, 0x2C};
    quint8 fo = quint8((sms.firstOctet & kept[mti]) | mti);
    if (sms.type != PduType::StatusReport && sms.statusReportRequested)
        fo |= 0x20;
    if (sms.type == PduType::Submit && sms.validityMinutes)
        fo |= 0x10;
    if (!udh.isEmpty() && sms.type != PduType::StatusReport)
        fo |= 0x40;
    out.append(char(fo));
    if (sms.type != PduType::Deliver)
        out.append(char(sms.messageReference));
    const auto address = encodeAddress(sms.address);
    out.append(address.value_or(QByteArray::fromHex("0081")));
    if (sms.type == PduType::StatusReport) {
        out.append(encodeTimestamp(sms.timestamp)).append(encodeTimestamp(sms.dischargeTime)).append(char(sms.status));
        return out;
    }
    out.append(char(sms.pid)).append(char(dcsFor(sms)));
    if (sms.type == PduType::Deliver)
        out.append(encodeTimestamp(sms.timestamp));
    else if (sms.validityMinutes)
        out.append(char(relativeVpFromMinutes(std::max(0, *sms.validityMinutes))));
    // Cut what does not fit one PDU (140 octets of user data) on a character boundary.
    const int headerOctets = udh.isEmpty() ? 0 : int(udh.size()) + 1;
    QString text = sms.text;
    QByteArray data = sms.data;
    if (sms.encoding == Encoding::Gsm7)
        text.truncate(fittingChars(text, Encoding::Gsm7, 160 - (headerOctets * 8 + 6) / 7));
    else if (sms.encoding == Encoding::Ucs2)
        text.truncate(fittingChars(text, Encoding::Ucs2, (140 - headerOctets) / 2));
    else
        data.truncate(140 - headerOctets);
    int udl = 0;
    const QByteArray ud = buildUserData(sms.encoding, udh, text, data, &udl);
    out.append(char(udl)).append(ud);
    return out;
}

QByteArray encodeDeliver(const Sms &sms) {
    Sms s = sms;
    s.type = PduType::Deliver;
    return encode(s);
}

QByteArray encodeStatusReport(const Sms &sms) {
    Sms s = sms;
    s.type = PduType::StatusReport;
    return encode(s);
}

SegmentInfo segmentInfo(const QString &text) {
    SegmentInfo info;
    info.encoding = isGsm7(text) ? Encoding::Gsm7 : Encoding::Ucs2;
    const Capacity cap = capacity(info.encoding, false);
    info.units = textUnits(text, info.encoding);
    info.parts = int(splitText(text, info.encoding, cap.single, cap.perPart).size());
    info.perPart = info.parts > 1 ? cap.perPart : cap.single;
    return info;
}

// ---- GSM 03.38 ----

bool isGsm7(const QString &text) {
    for (QChar c : text)
        if (gsm7Cost(c) == 0)
            return false;
    return true;
}

QByteArray gsm7Septets(const QString &text) {
    QByteArray out;
    out.reserve(text.size());
    const auto &table = gsm7Reverse();
    for (QChar c : text) {
        const auto it = table.constFind(c.unicode());
        if (it == table.constEnd()) {
            out.append(char(0x3F));   // '?' for what GSM-7 cannot carry
        } else if (*it & 0x100) {
            out.append(char(Escape)).append(char(*it & 0x7F));
        } else {
            out.append(char(*it));
        }
    }
    return out;
}

QString gsm7Text(const QByteArray &septets) {
    QString out;
    out.reserve(septets.size());
    for (int i = 0; i < septets.size(); ++i) {
        const quint8 s = quint8(septets.at(i)) & 0x7F;
        if (s != Escape) {
            out.append(QChar(Gsm7Default[s]));
            continue;
        }
        if (i + 1 >= septets.size())
            break;                    // a lone escape at the end: nothing to show
        const quint8 e = quint8(septets.at(++i)) & 0x7F;
        char16_t ch = 0;
        for (const ExtensionChar &x : Gsm7Extension)
            if (x.septet == e)
                ch = x.ch;
        // 23.038 6.2.1.1: an unknown extension shows the default-table character.
        out.append(QChar(ch ? ch : (e == Escape ? u' ' : Gsm7Default[e])));
    }
    return out;
}

QByteArray packSeptets(const QByteArray &septets, int fillBits) {
    fillBits = std::clamp(fillBits, 0, 7);
    QByteArray out((fillBits + 7 * septets.size() + 7) / 8, '\0');
    int bit = fillBits;
    for (char c : septets) {
        const uint v = uchar(c) & 0x7F;
        const int idx = bit / 8, sh = bit % 8;
        out[idx] = char(uchar(out[idx]) | uchar(v << sh));
        if (sh > 1)
            out[idx + 1] = char(uchar(out[idx + 1]) | uchar(v >> (8 - sh)));
        bit += 7;
    }
    return out;
}

QByteArray unpackSeptets(const QByteArray &packed, int count, int fillBits) {
    QByteArray out;
    if (count <= 0 || fillBits < 0)
        return out;
    const qint64 bits = qint64(packed.size()) * 8;
    out.reserve(std::min<qint64>(count, bits / 7));
    for (int i = 0; i < count; ++i) {
        const qint64 bit = fillBits + qint64(i) * 7;
        if (bit + 7 > bits)
            break;
        const int idx = int(bit / 8), sh = int(bit % 8);
        uint v = uchar(packed.at(idx)) >> sh;
        if (sh > 1)
            v |= uint(uchar(packed.at(idx + 1))) << (8 - sh);
        out.append(char(v & 0x7F));
    }
    return out;
}

// ---- reassembly ----

std::optional<Reassembler::Result> Reassembler::add(const Sms &sms, qint64 nowMs, const QString &tag) {
    if (!sms.concat || sms.concat->total <= 1 || sms.concat->sequence < 1 || sms.concat->sequence > sms.concat->total) {
        Result r;
        r.sms = sms;
        r.tags = {tag};
        return r;
    }
    const QString key = partKey(sms);
    Pending &p = m_pending[key];
    if (p.parts.isEmpty()) {
        p.firstMs = nowMs;
        p.total = sms.concat->total;
    }
    if (p.parts.contains(sms.concat->sequence))
        return std::nullopt;      // duplicate: the first copy stays
    p.parts.insert(sms.concat->sequence, Part{sms, nowMs, tag});
    if (p.parts.size() < p.total)
        return std::nullopt;
    Result r = join(p, true);
    m_pending.remove(key);
    return r;
}

QList<Reassembler::Result> Reassembler::expire(qint64 nowMs) {
    QList<Result> out;
    for (auto it = m_pending.begin(); it != m_pending.end();) {
        if (nowMs - it->firstMs > m_timeoutMs) {
            out.append(join(*it, false));
            it = m_pending.erase(it);
        } else {
            ++it;
        }
    }
    std::sort(out.begin(), out.end(), [](const Result &a, const Result &b) {
        return a.sms.timestamp < b.sms.timestamp || (a.sms.timestamp == b.sms.timestamp && a.tags < b.tags);
    });
    return out;
}

Reassembler::Result Reassembler::join(const Pending &pending, bool complete) {
    Result r;
    r.complete = complete;
    bool first = true;
    for (int seq = 1; seq <= pending.total; ++seq) {
        const auto it = pending.parts.constFind(seq);
        if (it == pending.parts.constEnd()) {
            r.missing.append(seq);
            continue;
        }
        const Sms &part = it->sms;
        if (first) {
            r.sms = part;
            r.sms.text.clear();
            r.sms.data.clear();
            r.sms.warnings.clear();
            first = false;
        }
        r.sms.text += part.text;
        r.sms.data += part.data;
        for (const QString &w : part.warnings)
            if (!r.sms.warnings.contains(w))
                r.sms.warnings.append(w);
        r.tags.append(it->tag);
    }
    if (!complete && !r.missing.isEmpty()) {
        QStringList m;
        for (int s : std::as_const(r.missing))
            m.append(QString::number(s));
        r.sms.warnings.append(QStringLiteral("incomplete: part(s) %1 of %2 missing").arg(m.join(QLatin1String(", "))).arg(pending.total));
    }
    return r;
}

} // namespace td::proto::pdu
