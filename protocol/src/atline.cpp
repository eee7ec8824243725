// What a GSM modem prints on its AT port: the streaming line reader, final result codes,
// the error tables and the reply parsers. Facts: shared/reference/modem/facts.md (init flow,
// prompt, two-line +CMT/+CDS, error tables, pitfalls); 3GPP TS 27.005 / 27.007, V.250.
//
// Leniency rules:
//   * any of CR, LF, CRLF, LFCR, CRCRLF ends a line; empty lines are skipped;
//   * a line is classified by content (final result code, URC table, echo of the command,
//     answer to the command in flight), never by its position in the stream;
//   * a line longer than Reader::MaxLine is dropped up to its end (Overflow event);
//   * parsers take what they need and return nullopt / an empty list on malformed input.
#include "trackerdesk/protocol/atline.h"

#include <QHash>

namespace td::proto::at {

namespace {

// ---- error tables (27.005 3.2.5 / 27.007 9.2, plus vendor codes seen in the field) ----

struct CodeText {
    int code;
    const char *text;
};

// +CMS ERROR: network causes (< 256, RP-cause / TP-FCS) and ME/TA codes (300..).
constexpr CodeText CmsErrors[] = {
    {1, "unassigned (unallocated) number"},
    {8, "operator determined barring"},
    {10, "call barred"},
    {17, "network failure"},
    {21, "short message transfer rejected"},
    {22, "memory capacity exceeded"},
    {27, "destination out of service"},
    {28, "unidentified subscriber"},
    {29, "facility rejected"},
    {30, "unknown subscriber"},
    {38, "network out of order"},
    {41, "temporary failure"},
    {42, "congestion"},
    {47, "resources unavailable, unspecified"},
    {50, "requested facility not subscribed"},
    {69, "requested facility not implemented"},
    {81, "invalid short message transfer reference value"},
    {95, "invalid message, unspecified"},
    {96, "invalid mandatory information"},
    {97, "message type non-existent or not implemented"},
    {98, "message not compatible with short message protocol state"},
    {99, "information element non-existent or not implemented"},
    {111, "protocol error, unspecified"},
    {127, "interworking, unspecified"},
    {128, "telematic interworking not supported"},
    {129, "short message type 0 not supported"},
    {130, "cannot replace short message"},
    {143, "unspecified TP-PID error"},
    {144, "data coding scheme (alphabet) not supported"},
    {145, "message class not supported"},
    {159, "unspecified TP-DCS error"},
    {160, "command cannot be actioned"},
    {161, "command unsupported"},
    {175, "unspecified TP-Command error"},
    {176, "TPDU not supported"},
    {192, "SC busy"},
    {193, "no SC subscription"},
    {194, "SC system failure"},
    {195, "invalid SME address"},
    {196, "destination SME barred"},
    {197, "SM rejected, duplicate SM"},
    {198, "TP-VPF not supported"},
    {199, "TP-VP not supported"},
    {208, "SIM SMS storage full"},
    {209, "no SMS storage capability in SIM"},
    {210, "error in MS"},
    {211, "memory capacity exceeded"},
    {212, "SIM application toolkit busy"},
    {213, "SIM data download error"},
    {255, "unspecified error cause"},
    {300, "ME failure"},
    {301, "SMS service of ME reserved"},
    {302, "operation not allowed"},
    {303, "operation not supported"},
    {304, "invalid PDU mode parameter"},
    {305, "invalid text mode parameter"},
    {310, "SIM not inserted"},
    {311, "SIM PIN required"},
    {312, "PH-SIM PIN required"},
    {313, "SIM failure"},
    {314, "SIM busy"},
    {315, "SIM wrong"},
    {316, "SIM PUK required"},
    {317, "SIM PIN2 required"},
    {318, "SIM PUK2 required"},
    {320, "memory failure"},
    {321, "invalid memory index"},
    {322, "memory full"},
    {330, "SMSC address unknown"},
    {331, "no network service"},
    {332, "network timeout"},
    {340, "no +CNMA acknowledgement expected"},
    {500, "unknown error"},
    {515, "please wait, init or command processing in progress"},
};

// +CME ERROR (27.007 9.2.1 / 9.2.2), plus 515 (vendor "please wait").
constexpr CodeText CmeErrors[] = {
    {0, "phone failure"},
    {1, "no connection to phone"},
    {2, "phone-adaptor link reserved"},
    {3, "operation not allowed"},
    {4, "operation not supported"},
    {5, "PH-SIM PIN required"},
    {6, "PH-FSIM PIN required"},
    {7, "PH-FSIM PUK required"},
    {10, "SIM not inserted"},
    {11, "SIM PIN required"},
    {12, "SIM PUK required"},
    {13, "SIM failure"},
    {14, "SIM busy"},
    {15, "SIM wrong"},
    {16, "incorrect password"},
    {17, "SIM PIN2 required"},
    {18, "SIM PUK2 required"},
    {20, "memory full"},
    {21, "invalid index"},
    {22, "not found"},
    {23, "memory failure"},
    {24, "text string too long"},
    {25, "invalid characters in text string"},
    {26, "dial string too long"},
    {27, "invalid characters in dial string"},
    {30, "no network service"},
    {31, "network timeout"},
    {32, "network not allowed, emergency calls only"},
    {40, "network personalisation PIN required"},
    {41, "network personalisation PUK required"},
    {42, "network subset personalisation PIN required"},
    {43, "network subset personalisation PUK required"},
    {44, "service provider personalisation PIN required"},
    {45, "service provider personalisation PUK required"},
    {46, "corporate personalisation PIN required"},
    {47, "corporate personalisation PUK required"},
    {48, "hidden key required"},
    {49, "EAP method not supported"},
    {50, "incorrect parameters"},
    {100, "unknown"},
    {103, "illegal MS"},
    {106, "illegal ME"},
    {107, "GPRS services not allowed"},
    {111, "PLMN not allowed"},
    {112, "location area not allowed"},
    {113, "roaming not allowed in this location area"},
    {132, "service option not supported"},
    {133, "requested service option not subscribed"},
    {134, "service option temporarily out of order"},
    {148, "unspecified GPRS error"},
    {149, "PDP authentication failure"},
    {150, "invalid mobile class"},
    {515, "please wait, init or command processing in progress"},
};

template <size_t N>
const char *lookup(const CodeText (&table)[N], int code) {
    for (const CodeText &e : table)
        if (e.code == code)
            return e.text;
    return nullptr;
}

// ---- URC table ----

struct UrcEntry {
    const char *name;
    bool wholeLine;    // true: the line is exactly the name; false: "NAME:" prefix
};

constexpr UrcEntry Urcs[] = {
    {"+CMTI", false},   // new message stored (27.005)
    {"+CMT", false},    // new message delivered directly; PDU line follows
    {"+CDSI", false},   // status report stored
    {"+CDS", false},    // status report delivered directly; PDU line follows (PDU mode)
    {"+CBM", false},    // cell broadcast
    {"+CREG", false},   // registration (with AT+CREG=1/2)
    {"+CGREG", false},
    {"+CEREG", false},
    {"+C5GREG", false},
    {"+CLIP", false},   // caller id after RING
    {"+CRING", false},
    {"+CCWA", false},
    {"+CUSD", false},   // USSD answer
    {"+CPIN", false},   // SIM state after reset ("+CPIN: READY")
    {"+CFUN", false},   // SIM800 start-up
    {"+CIEV", false},
    {"+CTZV", false},   // network time zone
    {"+CTZE", false},
    {"*PSUTTZ", false}, // SIM800 network time
    {"+PSUTTZ", false},
    {"DST", false},     // SIM800 "DST: 0"
    {"+CGEV", false},
    {"+QIND", false},   // Quectel
    {"+CSMINS", false}, // SIM800 SIM inserted
    {"^RSSI", false},   // Huawei
    {"^HCSQ", false},
    {"^MODE", false},
    {"^BOOT", false},
    {"^SIMST", false},
    {"^SRVST", false},
    {"^SYSSTART", true},
    {"RING", true},
    {"RDY", true},      // SIM800 boot
    {"Call Ready", true},
    {"SMS Ready", true},
    {"PB DONE", true},
    {"NORMAL POWER DOWN", true},
    {"UNDER-VOLTAGE POWER DOWN", true},
    {"UNDER-VOLTAGE WARNNING", true},   // sic, SIM800
    {"OVER-VOLTAGE POWER DOWN", true},
    {"OVER-VOLTAGE WARNNING", true},
};

bool isLineEnd(char c) { return c == '\r' || c == '\n'; }

bool isHexText(const QByteArray &s) {
    if (s.isEmpty())
        return false;
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f')))
            return false;
    return true;
}

// "AT+CREG?" -> "+CREG"; "AT^SYSINFO" -> "^SYSINFO"; "ATE0" / "AT" -> "".
QByteArray responsePrefix(const QByteArray &command) {
    const QByteArray c = command.trimmed();
    if (c.size() < 3 || qstrnicmp(c.constData(), "AT", 2) != 0)
        return {};
    const char lead = c.at(2);
    if (lead != '+' && lead != '^' && lead != '$' && lead != '#' && lead != '*')
        return {};
    int end = 3;
    while (end < c.size() && c.at(end) != '=' && c.at(end) != '?' && c.at(end) != ';')
        ++end;
    return c.mid(2, end - 2).toUpper();
}

bool startsWithNoCase(const QByteArray &s, const QByteArray &prefix) {
    return s.size() >= prefix.size() && qstrnicmp(s.constData(), prefix.constData(), prefix.size()) == 0;
}

// ---- parameter lists: "+NAME: a,"b",(1-3),..." ----

struct Param {
    QByteArray text;       // unquoted
    bool quoted = false;
};

// The text after "NAME:" when the line starts with one of `names`, else nullopt.
std::optional<QByteArray> afterPrefix(const QByteArray &line, std::initializer_list<const char *> names) {
    const QByteArray t = line.trimmed();
    for (const char *name : names) {
        const QByteArray n = QByteArray(name) + ':';
        if (startsWithNoCase(t, n))
            return t.mid(n.size()).trimmed();
    }
    return std::nullopt;
}

// Splits on commas outside quotes and parentheses. nullopt on an unterminated quote or
// unbalanced parentheses.
std::optional<QList<Param>> splitParams(const QByteArray &text) {
    QList<Param> out;
    if (text.trimmed().isEmpty())
        return out;
    Param cur;
    bool inQuote = false;
    int depth = 0;
    bool closedQuote = false;
    for (char c : text) {
        if (inQuote) {
            if (c == '"') {
                inQuote = false;
                closedQuote = true;
            } else {
                cur.text.append(c);
            }
            continue;
        }
        if (c == '"' && depth == 0) {
            if (closedQuote || !cur.text.trimmed().isEmpty())
                return std::nullopt;   // text"quoted" or "a""b"
            cur.text.clear();
            cur.quoted = true;
            inQuote = true;
            continue;
        }
        if (c == '(')
            ++depth;
        else if (c == ')' && --depth < 0)
            return std::nullopt;
        if (c == ',' && depth == 0) {
            if (!cur.quoted)
                cur.text = cur.text.trimmed();
            out.append(cur);
            cur = Param();
            closedQuote = false;
            continue;
        }
        if (closedQuote) {
            if (c == ' ' || c == '\t')
                continue;
            return std::nullopt;       // "abc"x
        }
        cur.text.append(c);
    }
    if (inQuote || depth != 0)
        return std::nullopt;
    if (!cur.quoted)
        cur.text = cur.text.trimmed();
    out.append(cur);
    return out;
}

std::optional<int> toInt(const Param &p, int min, int max) {
    if (p.quoted || p.text.isEmpty() || p.text.size() > 9)
        return std::nullopt;
    for (char c : p.text)
        if (c < '0' || c > '9')
            return std::nullopt;
    const int v = p.text.toInt();
    if (v < min || v > max)
        return std::nullopt;
    return v;
}

// "(0-2)", "(0,2)", "(1)", "2", "()" -> the values; nullopt when malformed. Bounded: at most
// 256 values, each in 0..255.
std::optional<QList<int>> parseRangeList(const QByteArray &text) {
    QByteArray t = text.trimmed();
    if (t.startsWith('(')) {
        if (!t.endsWith(')'))
            return std::nullopt;
        t = t.mid(1, t.size() - 2).trimmed();
    }
    QList<int> out;
    if (t.isEmpty())
        return out;
    for (const QByteArray &item : t.split(',')) {
        const QByteArray it = item.trimmed();
        const int dash = it.indexOf('-');
        const Param a{dash < 0 ? it : it.left(dash), false};
        const auto lo = toInt(a, 0, 255);
        if (!lo)
            return std::nullopt;
        int hi = *lo;
        if (dash >= 0) {
            const auto h = toInt(Param{it.mid(dash + 1), false}, 0, 255);
            if (!h || *h < *lo)
                return std::nullopt;
            hi = *h;
        }
        for (int v = *lo; v <= hi; ++v)
            if (!out.contains(v)) {
                if (out.size() >= 256)
                    return std::nullopt;
                out.append(v);
            }
    }
    return out;
}

// Text-mode message status names (+CMGL/+CMGR) -> PDU-mode numbers.
int statFromName(const QByteArray &name) {
    static const char *const names[] = {"REC UNREAD", "REC READ", "STO UNSENT", "STO SENT", "ALL"};
    for (int i = 0; i < 5; ++i)
        if (name.compare(names[i], Qt::CaseInsensitive) == 0)
            return i;
    return -1;
}

// "002B0034..." (AT+CSCS="UCS2") -> "+4..."; nullopt when not hex UCS-2 of a dial string.
std::optional<QString> fromHexUcs2Number(const QByteArray &s) {
    if (s.size() < 8 || s.size() % 4 != 0 || !isHexText(s))
        return std::nullopt;
    QString out;
    for (int i = 0; i < s.size(); i += 4) {
        const QChar c(char16_t(s.mid(i, 4).toUInt(nullptr, 16)));
        if (!(c.isDigit() || c == QLatin1Char('+') || c == QLatin1Char('*') || c == QLatin1Char('#')))
            return std::nullopt;
        out.append(c);
    }
    return out;
}

} // namespace

// ---- final result codes ----

bool Final::retryable() const {
    if (kind == FinalKind::CmeError)
        return code == 14 || code == 515 || (code < 0 && (text.contains(QLatin1String("SIM busy"), Qt::CaseInsensitive)
                                                          || text.contains(QLatin1String("please wait"), Qt::CaseInsensitive)));
    if (kind == FinalKind::CmsError)
        return code == 314 || code == 515 || (code < 0 && (text.contains(QLatin1String("SIM busy"), Qt::CaseInsensitive)
                                                           || text.contains(QLatin1String("please wait"), Qt::CaseInsensitive)));
    return false;
}

QString cmsErrorText(int code) {
    if (const char *t = lookup(CmsErrors, code))
        return QString::fromLatin1(t);
    if (code >= 0 && code < 256)
        return QStringLiteral("network cause %1").arg(code);
    if (code >= 512)
        return QStringLiteral("manufacturer-specific error %1").arg(code);
    return QStringLiteral("unknown error %1").arg(code);
}

QString cmeErrorText(int code) {
    if (const char *t = lookup(CmeErrors, code))
        return QString::fromLatin1(t);
    if (code >= 512)
        return QStringLiteral("manufacturer-specific error %1").arg(code);
    return QStringLiteral("unknown error %1").arg(code);
}

std::optional<Final> parseFinal(const QByteArray &line) {
    const QByteArray t = line.trimmed();
    static const struct { const char *text; FinalKind kind; } plain[] = {
        {"OK", FinalKind::Ok},
        {"ERROR", FinalKind::Error},
        {"NO CARRIER", FinalKind::NoCarrier},
        {"COMMAND NOT SUPPORT", FinalKind::CommandNotSupport},
        {"BUSY", FinalKind::Busy},
        {"NO ANSWER", FinalKind::NoAnswer},
    };
    for (const auto &p : plain)
        if (t == p.text) {
            Final f;
            f.kind = p.kind;
            f.text = QString::fromLatin1(p.text);
            return f;
        }
    for (const bool cms : {true, false}) {
        const QByteArray prefix = cms ? QByteArrayLiteral("+CMS ERROR:") : QByteArrayLiteral("+CME ERROR:");
        if (!startsWithNoCase(t, prefix))
            continue;
        Final f;
        f.kind = cms ? FinalKind::CmsError : FinalKind::CmeError;
        const QByteArray rest = t.mid(prefix.size()).trimmed();
        const QString name = cms ? QStringLiteral("+CMS ERROR") : QStringLiteral("+CME ERROR");
        if (const auto code = toInt(Param{rest, false}, 0, 65535)) {
            f.code = *code;
            f.text = QStringLiteral("%1 %2: %3").arg(name).arg(*code).arg(cms ? cmsErrorText(*code) : cmeErrorText(*code));
        } else {
            f.text = name + QStringLiteral(": ") + (rest.isEmpty() ? QStringLiteral("(no cause)") : QString::fromLatin1(rest));
        }
        return f;
    }
    return std::nullopt;
}

// ---- URCs ----

QStringList urcNames() {
    QStringList out;
    for (const UrcEntry &e : Urcs)
        out.append(QString::fromLatin1(e.name));
    return out;
}

QString urcName(const QByteArray &line) {
    const QByteArray t = line.trimmed();
    for (const UrcEntry &e : Urcs) {
        const int n = int(qstrlen(e.name));
        if (e.wholeLine) {
            if (t == e.name)
                return QString::fromLatin1(e.name);
        } else if (t.size() > n && t.startsWith(e.name) && t.at(n) == ':') {
            return QString::fromLatin1(e.name);
        }
    }
    return {};
}

// ---- the reader ----

void Reader::setCommand(const QByteArray &command) { m_command = command.trimmed(); }

void Reader::reset() {
    m_buffer.clear();
    m_pendingUrc = Event();
    m_waitingPdu = false;
    m_dropping = false;
}

QList<Event> Reader::feed(const QByteArray &bytes) {
    QList<Event> out;
    const QByteArray prefix = responsePrefix(m_command);
    const bool promptExpected = prefix == "+CMGS" || prefix == "+CMGW";

    auto emitPending = [&] {
        if (m_waitingPdu) {
            out.append(m_pendingUrc);
            m_pendingUrc = Event();
            m_waitingPdu = false;
        }
    };

    auto handleLine = [&](const QByteArray &line) {
        std::optional<at::Final> final = parseFinal(line);
        const QString urc = urcName(line);
        if (m_waitingPdu) {
            if (!final && urc.isEmpty()) {   // the second line of +CMT / +CDS
                Event e = m_pendingUrc;
                e.pdu = line.trimmed();
                out.append(e);
                m_pendingUrc = Event();
                m_waitingPdu = false;
                return;
            }
            emitPending();                  // header without its PDU line; classify this one
        }
        Event e;
        e.line = line;
        const QByteArray trimmed = line.trimmed();
        if (!m_command.isEmpty() && trimmed.compare(m_command, Qt::CaseInsensitive) == 0) {
            e.kind = Event::Echo;
        } else if (promptExpected && (trimmed.endsWith('\x1A') || trimmed.endsWith('\x1B'))) {
            e.kind = Event::Echo;           // our PDU / text echoed after the prompt (Ctrl-Z / ESC)
        } else if (final) {
            e.kind = Event::Final;
            e.final = final;
        } else if (!urc.isEmpty() && !(prefix.size() > 1 && startsWithNoCase(trimmed, prefix + ':'))) {
            e.kind = Event::Urc;
            e.urc = urc;
            // +CMT always has a second line; +CDS only in PDU mode ("+CDS: <length>").
            if (urc == QLatin1String("+CMT") || (urc == QLatin1String("+CDS") && parsePduLength(line))) {
                m_pendingUrc = e;
                m_waitingPdu = true;
                return;
            }
        } else {
            e.kind = Event::Line;
        }
        out.append(e);
    };

    m_buffer.append(bytes);
    int pos = 0;
    const int size = int(m_buffer.size());
    while (pos < size) {
        if (m_dropping) {
            while (pos < size && !isLineEnd(m_buffer.at(pos)))
                ++pos;
            if (pos == size)
                break;
            m_dropping = false;
        }
        while (pos < size && isLineEnd(m_buffer.at(pos)))
            ++pos;
        if (pos == size)
            break;
        if (promptExpected && m_buffer.at(pos) == '>') {
            if (pos + 1 == size)
                break;                      // wait: "> " or ">\r\n"
            const char next = m_buffer.at(pos + 1);
            if (next == ' ' || isLineEnd(next)) {
                emitPending();
                Event e;
                e.kind = Event::Prompt;
                e.line = m_buffer.mid(pos, next == ' ' ? 2 : 1);
                out.append(e);
                pos += next == ' ' ? 2 : 1;
                continue;
            }
        }
        int end = pos;
        while (end < size && !isLineEnd(m_buffer.at(end)))
            ++end;
        if (end == size)
            break;                          // incomplete line: keep it
        if (end - pos > MaxLine) {         // same event as when the line arrives in pieces
            emitPending();
            Event e;
            e.kind = Event::Overflow;
            e.line = m_buffer.mid(pos, 80);
            out.append(e);
        } else {
            handleLine(m_buffer.mid(pos, end - pos));
        }
        pos = end;
    }
    m_buffer.remove(0, pos);
    if (m_buffer.size() > MaxLine) {
        emitPending();
        Event e;
        e.kind = Event::Overflow;
        e.line = m_buffer.left(80);
        out.append(e);
        m_buffer.clear();
        m_dropping = true;
    }
    return out;
}

// ---- reply parsers ----

std::optional<MessageIndication> parseCmti(const QByteArray &line) {
    const auto rest = afterPrefix(line, {"+CMTI", "+CDSI"});
    if (!rest)
        return std::nullopt;
    const auto params = splitParams(*rest);
    if (!params || params->size() < 2)
        return std::nullopt;
    const auto index = toInt(params->at(1), 0, 99999);
    const QByteArray mem = params->at(0).text.trimmed();
    if (!index || mem.isEmpty() || mem.size() > 8)
        return std::nullopt;
    return MessageIndication{QString::fromLatin1(mem), *index};
}

std::optional<Registration> parseCreg(const QByteArray &line) {
    const auto rest = afterPrefix(line, {"+CREG", "+CGREG", "+CEREG", "+C5GREG"});
    if (!rest)
        return std::nullopt;
    const auto params = splitParams(*rest);
    if (!params || params->isEmpty())
        return std::nullopt;
    Registration r;
    int first = 0;   // index of <stat>
    // Reply to AT+CREG?: "<n>,<stat>[,...]"; URC: "<stat>[,<lac>,<ci>...]" (lac quoted).
    if (params->size() >= 2 && !params->at(1).quoted) {
        const auto mode = toInt(params->at(0), 0, 5);
        if (!mode)
            return std::nullopt;
        r.mode = *mode;
        first = 1;
    }
    const auto stat = toInt(params->at(first), 0, 11);
    if (!stat)
        return std::nullopt;
    r.stat = *stat;
    if (params->size() > first + 1)
        r.lac = QString::fromLatin1(params->at(first + 1).text).toUpper();
    if (params->size() > first + 2)
        r.cellId = QString::fromLatin1(params->at(first + 2).text).toUpper();
    return r;
}

QString registrationText(int stat) {
    static const char *const texts[] = {
        "not registered, not searching",
        "registered, home network",
        "not registered, searching",
        "registration denied",
        "unknown",
        "registered, roaming",
        "registered for SMS only, home network",
        "registered for SMS only, roaming",
        "emergency services only",
        "registered for CSFB not preferred, home network",
        "registered for CSFB not preferred, roaming",
        "registered for emergency bearer services only",
    };
    if (stat >= 0 && stat < int(std::size(texts)))
        return QString::fromLatin1(texts[stat]);
    return QStringLiteral("unknown registration state %1").arg(stat);
}

std::optional<SignalQuality> parseCsq(const QByteArray &line) {
    const auto rest = afterPrefix(line, {"+CSQ"});
    if (!rest)
        return std::nullopt;
    const auto params = splitParams(*rest);
    if (!params || params->size() != 2)
        return std::nullopt;
    const auto rssi = toInt(params->at(0), 0, 99);
    const auto ber = toInt(params->at(1), 0, 99);
    if (!rssi || !ber || (*rssi > 31 && *rssi != 99) || (*ber > 7 && *ber != 99))
        return std::nullopt;
    SignalQuality q;
    q.rssi = *rssi;
    q.ber = *ber;
    if (*rssi <= 31)
        q.dbm = -113 + 2 * *rssi;
    return q;
}

std::optional<QString> parseCpin(const QByteArray &line) {
    const auto rest = afterPrefix(line, {"+CPIN"});
    if (!rest)
        return std::nullopt;
    QByteArray v = rest->trimmed();
    if (v.size() >= 2 && v.startsWith('"') && v.endsWith('"'))
        v = v.mid(1, v.size() - 2).trimmed();
    if (v.isEmpty() || v.size() > 32)
        return std::nullopt;
    for (char c : v)
        if (uchar(c) < 0x20 || uchar(c) > 0x7E)
            return std::nullopt;
    return QString::fromLatin1(v);
}

std::optional<QString> parseCops(const QByteArray &line) {
    const auto rest = afterPrefix(line, {"+COPS"});
    if (!rest || rest->startsWith('('))   // "=?" list: not a current-operator reply
        return std::nullopt;
    const auto params = splitParams(*rest);
    if (!params || params->isEmpty() || !toInt(params->at(0), 0, 4))
        return std::nullopt;
    if (params->size() < 3)
        return QString();                  // "+COPS: 0": no operator selected
    if (!toInt(params->at(1), 0, 2))
        return std::nullopt;
    return QString::fromUtf8(params->at(2).text);
}

std::optional<int> parseCmgs(const QByteArray &line) {
    const auto rest = afterPrefix(line, {"+CMGS"});
    if (!rest)
        return std::nullopt;
    const auto params = splitParams(*rest);
    if (!params || params->isEmpty())
        return std::nullopt;
    return toInt(params->at(0), 0, 255);
}

QList<StorageUse> parseCpms(const QByteArray &line) {
    const auto rest = afterPrefix(line, {"+CPMS"});
    if (!rest)
        return {};
    const auto params = splitParams(*rest);
    if (!params || params->isEmpty())
        return {};
    QList<StorageUse> out;
    const bool named = params->at(0).quoted;
    const int step = named ? 3 : 2;
    if (params->size() % step != 0)
        return {};
    for (int i = 0; i < params->size(); i += step) {
        StorageUse s;
        int at = i;
        if (named) {
            if (!params->at(i).quoted || params->at(i).text.isEmpty())
                return {};
            s.memory = QString::fromLatin1(params->at(i).text);
            ++at;
        }
        const auto used = toInt(params->at(at), 0, 100000);
        const auto total = toInt(params->at(at + 1), 0, 100000);
        if (!used || !total || *used > *total)
            return {};
        s.used = *used;
        s.total = *total;
        out.append(s);
    }
    return out;
}

QList<QStringList> parseCpmsTest(const QByteArray &line) {
    const auto rest = afterPrefix(line, {"+CPMS"});
    if (!rest || !rest->startsWith('('))
        return {};
    const auto groups = splitParams(*rest);
    if (!groups)
        return {};
    QList<QStringList> out;
    for (const Param &g : *groups) {
        const QByteArray t = g.text.trimmed();
        if (g.quoted || !t.startsWith('(') || !t.endsWith(')'))
            return {};
        const auto items = splitParams(t.mid(1, t.size() - 2));
        if (!items)
            return {};
        QStringList names;
        for (const Param &p : *items) {
            if (p.text.isEmpty() || p.text.size() > 8)
                return {};
            names.append(QString::fromLatin1(p.text));
        }
        out.append(names);
    }
    return out;
}

QList<QList<int>> parseCnmiTest(const QByteArray &line) {
    const auto rest = afterPrefix(line, {"+CNMI"});
    if (!rest)
        return {};
    const auto groups = splitParams(*rest);
    if (!groups || groups->isEmpty())
        return {};
    QList<QList<int>> out;
    for (const Param &g : *groups) {
        if (g.quoted)
            return {};
        const auto values = parseRangeList(g.text);
        if (!values)
            return {};
        out.append(*values);
    }
    return out;
}

std::optional<QString> parseCsca(const QByteArray &line) {
    const auto rest = afterPrefix(line, {"+CSCA"});
    if (!rest)
        return std::nullopt;
    const auto params = splitParams(*rest);
    if (!params || params->isEmpty() || !params->at(0).quoted)
        return std::nullopt;
    QByteArray raw = params->at(0).text.trimmed();
    QString number;
    if (const auto ucs2 = fromHexUcs2Number(raw)) {
        number = *ucs2;
    } else {
        for (char c : raw)
            if (!((c >= '0' && c <= '9') || c == '+' || c == '*' || c == '#'))
                return std::nullopt;
        number = QString::fromLatin1(raw);
    }
    if (number.lastIndexOf(QLatin1Char('+')) > 0)
        return std::nullopt;
    if (params->size() >= 2) {
        const auto toa = toInt(params->at(1), 0, 255);
        if (!toa)
            return std::nullopt;
        if (*toa == 145 && !number.isEmpty() && !number.startsWith(QLatin1Char('+')))
            number.prepend(QLatin1Char('+'));
    }
    return number;
}

std::optional<ListedMessage> parseCmgl(const QByteArray &line) {
    const auto rest = afterPrefix(line, {"+CMGL"});
    if (!rest)
        return std::nullopt;
    const auto params = splitParams(*rest);
    if (!params || params->size() < 2)
        return std::nullopt;
    ListedMessage m;
    const auto index = toInt(params->at(0), 0, 99999);
    if (!index)
        return std::nullopt;
    m.index = *index;
    if (params->at(1).quoted) {            // text mode: +CMGL: 1,"REC UNREAD","+49...",,"..."
        m.stat = statFromName(params->at(1).text);
        if (m.stat < 0)
            return std::nullopt;
        return m;
    }
    const auto stat = toInt(params->at(1), 0, 4);
    if (!stat || params->size() < 4)
        return std::nullopt;
    m.stat = *stat;
    const auto length = toInt(params->last(), 1, 255);
    if (!length)
        return std::nullopt;
    m.length = *length;
    return m;
}

std::optional<ListedMessage> parseCmgr(const QByteArray &line) {
    const auto rest = afterPrefix(line, {"+CMGR"});
    if (!rest)
        return std::nullopt;
    const auto params = splitParams(*rest);
    if (!params || params->size() < 2)
        return std::nullopt;
    ListedMessage m;
    if (params->at(0).quoted) {            // text mode
        m.stat = statFromName(params->at(0).text);
        if (m.stat < 0)
            return std::nullopt;
        return m;
    }
    const auto stat = toInt(params->at(0), 0, 4);
    if (!stat || params->size() != 3)
        return std::nullopt;
    m.stat = *stat;
    const auto length = toInt(params->at(2), 1, 255);
    if (!length)
        return std::nullopt;
    m.length = *length;
    return m;
}

std::optional<int> parsePduLength(const QByteArray &line) {
    if (const auto rest = afterPrefix(line, {"+CMT"})) {   // "+CMT: [<alpha>],<length>"
        const auto params = splitParams(*rest);
        if (!params || params->size() != 2)
            return std::nullopt;
        return toInt(params->at(1), 1, 255);
    }
    if (const auto rest = afterPrefix(line, {"+CDS"})) {   // "+CDS: <length>"
        const auto params = splitParams(*rest);
        if (!params || params->size() != 1)
            return std::nullopt;
        return toInt(params->at(0), 1, 255);
    }
    return std::nullopt;
}

QByteArray chooseCnmi(const QList<QList<int>> &supported) {
    // Preference order per parameter: mode, mt, bm, ds, bfr.
    static const QList<int> preferences[] = {
        {2, 1, 3},        // mode: buffer URCs while busy, else discard while busy, else in-band
        {1, 3, 0},        // mt: store + "+CMTI"; never 2 (would need AT+CNMA)
        {0},              // bm: no cell broadcast
        {2, 1, 0},        // ds: stored report "+CDSI", else direct "+CDS", else none
        {0, 1},           // bfr: flush buffered URCs
    };
    if (supported.size() < 2)
        return {};
    QList<int> chosen;
    for (int i = 0; i < 5 && i < supported.size(); ++i) {
        const QList<int> &offered = supported.at(i);
        std::optional<int> pick;
        for (int v : preferences[i])
            if (offered.contains(v)) {
                pick = v;
                break;
            }
        if (!pick) {
            if (i < 2)
                return {};      // no usable mode / mt
            if (offered.isEmpty())
                break;          // parameter not settable: leave it and the rest out
            pick = offered.first();
        }
        chosen.append(*pick);
    }
    QByteArray out;
    for (int v : chosen) {
        if (!out.isEmpty())
            out.append(',');
        out.append(QByteArray::number(v));
    }
    return out;
}

std::optional<QByteArray> quoted(const QString &value) {
    if (value.size() > 256)
        return std::nullopt;
    QByteArray out;
    out.reserve(value.size() + 2);
    out.append('"');
    for (QChar c : value) {
        const char16_t u = c.unicode();
        if (u < 0x20 || u > 0x7E || u == '"' || u == '\\')
            return std::nullopt;
        out.append(char(u));
    }
    out.append('"');
    return out;
}

} // namespace td::proto::at
