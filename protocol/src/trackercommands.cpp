#include "trackerdesk/protocol/trackercommands.h"

#include <QRegularExpression>

#include <cstring>

namespace td::proto::commands {

namespace {

// ---- parameter shorthands for the tables ----

Param host(QString label = QStringLiteral("Server address")) {
    return {QStringLiteral("host"), std::move(label), ParamType::Host, true, 0, 0, {},
            QStringLiteral("IP address or domain name of this TrackerDesk, as the tracker reaches it")};
}
Param ipOnly() {
    return {QStringLiteral("host"), QStringLiteral("Server IP address"), ParamType::IpAddress, true, 0, 0, {},
            QStringLiteral("IPv4 address only: these units do no DNS lookups")};
}
Param port() {
    return {QStringLiteral("port"), QStringLiteral("Server port"), ParamType::Port, true, 0, 0, QStringLiteral("5023"),
            QStringLiteral("TrackerDesk's tracker port")};
}
Param word(const char *id, const char *label, bool required, const char *def = "", const char *help = "") {
    return {QLatin1String(id), QLatin1String(label), ParamType::Word, required, 0, 0, QLatin1String(def), QLatin1String(help)};
}
Param seconds(const char *id, const char *label, bool required, int min, int max, const char *def, const char *help = "") {
    return {QLatin1String(id), QLatin1String(label), ParamType::Seconds, required, min, max, QLatin1String(def), QLatin1String(help)};
}
Param zone() {
    return {QStringLiteral("tz"), QStringLiteral("Time zone (UTC offset)"), ParamType::TimeZone, true, 0, 0, QStringLiteral("+0"),
            QStringLiteral("+8, -5, +5:30; 0 for UTC (TrackerDesk converts device times with the zone set on the device)")};
}
Param phone(const char *id, const char *label, bool required) {
    return {QLatin1String(id), QLatin1String(label), ParamType::Phone, required, 0, 0, {},
            QStringLiteral("+CC... or the national form the tracker's network uses")};
}
Param integer(const char *id, const char *label, int min, int max, const char *def) {
    return {QLatin1String(id), QLatin1String(label), ParamType::Integer, true, min, max, QLatin1String(def), {}};
}

// Where each syntax comes from is shown to the user, so the texts name the primary sources
// (collected in shared/reference/sms/commands.md).

// ---- GT06 / Concox / Jimi (and JT808 units with the same firmware keywords) ----
QList<CommandTemplate> concoxCommands(bool jt808) {
    const QString community = jt808
        ? QStringLiteral("Concox/Jimi keyword syntax; on JT/T 808 units unverified")
        : QStringLiteral("community usage (forums, Traccar issues), no primary source");
    // A source shows the syntax on Concox units; on JT/T 808 units it stays "reported".
    auto verified = [jt808](const char *) { return jt808 ? Evidence::Reported : Evidence::Verified; };
    QList<CommandTemplate> t = {
        {QStringLiteral("server"), QStringLiteral("Set server"), QStringLiteral("SERVER,{host.kind},{host},{port},0#"),
         {host(), port()}, false, Evidence::Reported, community, QStringLiteral("OK"),
         QStringLiteral("0 = by IP, 1 = by domain; the last 0 = TCP. GT003 V06 firmware wants SERVER,8520,<host>,<port># "
                        "(traccar#1452). Check the APN first: with a wrong APN the unit stays offline.")},
        {QStringLiteral("apn"), QStringLiteral("Set APN"), QStringLiteral("APN,{apn}[,{user},{pass}]#"),
         {word("apn", "APN", true, "", "the SIM operator's data APN"), word("user", "APN user", false),
          word("pass", "APN password", false)},
         false, Evidence::Reported, community, QStringLiteral("OK"), {}},
        {QStringLiteral("gprs"), QStringLiteral("Enable GPRS"), QStringLiteral("GPRSON,1#"), {}, false, Evidence::Reported,
         community, QStringLiteral("OK"), {}},
        {QStringLiteral("interval"), QStringLiteral("Upload interval"), QStringLiteral("TIMER,{on}[,{off}]#"),
         {seconds("on", "Interval, ACC on (s)", true, 5, 18000, "60", "minimum 5 s"),
          seconds("off", "Interval, ACC off (s)", false, 5, 18000, "")},
         false, Evidence::Reported, community + QStringLiteral("; minimum 5 s per traccar#1605"), QStringLiteral("OK"), {}},
        {QStringLiteral("timezone"), QStringLiteral("Time zone"), QStringLiteral("GMT,{tz.ew},{tz.h},{tz.m}#"), {zone()}, false,
         Evidence::Reported, community, QStringLiteral("OK"),
         QStringLiteral("GMT,E,0,0# makes the unit report UTC")},
        {QStringLiteral("sos"), QStringLiteral("SOS numbers"), QStringLiteral("SOS,A,{sos1}[,{sos2}[,{sos3}]]#"),
         {phone("sos1", "SOS number 1", true), phone("sos2", "SOS number 2", false), phone("sos3", "SOS number 3", false)},
         false, Evidence::Reported, community, QStringLiteral("OK"),
         QStringLiteral("Only SOS numbers get WHERE# replies on some firmwares (JM01 manual)")},
        {QStringLiteral("center"), QStringLiteral("Centre number"), QStringLiteral("CENTER,A,{phone}#"),
         {phone("phone", "Centre number", true)}, false, Evidence::Reported, community, QStringLiteral("OK"), {}},
        {QStringLiteral("where"), QStringLiteral("Locate now (WHERE#)"), QStringLiteral("WHERE#"), {}, false, verified("JM01"),
         QStringLiteral("Jimi JM01 manual p.15"),
         QStringLiteral("Lat:N22.571285,Lon:E113.877115,Course:42.20,Speed:0.0740,DateTime:10-11-23 22:28 (NO DATA! before a fix)"),
         QStringLiteral("The reply's position becomes a fix (source sms)")},
        {QStringLiteral("url"), QStringLiteral("Locate now, map link (URL#)"), QStringLiteral("URL#"), {}, false, verified("JM01"),
         QStringLiteral("Jimi JM01 manual p.15"),
         QStringLiteral("<DateTime:10-11-23 23:42:51> http://maps.google.com/maps?q=N22.571490,E113.877103"), {}},
        {QStringLiteral("status"), QStringLiteral("Status"), QStringLiteral("STATUS#"), {}, false, verified("traccar#1730"),
         QStringLiteral("traccar#1730"),
         QStringLiteral("Battery:4.13V,NORMAL; GPRS:Link Down; GSM Signal Level:Strong; GPS:...; ACC:OFF; Defense:OFF"), {}},
        {QStringLiteral("params"), QStringLiteral("Parameters"), QStringLiteral("PARAM#"), {}, false, Evidence::Reported, community,
         QStringLiteral("IMEI, server, APN, TIMER, SOS, CENTER, GMT ..."), {}},
        {QStringLiteral("gprsset"), QStringLiteral("GPRS settings"), QStringLiteral("GPRSSET#"), {}, false, Evidence::Reported,
         community, QStringLiteral("GPRS on/off, APN, server, link state"), {}},
        {QStringLiteral("version"), QStringLiteral("Firmware version"), QStringLiteral("VERSION#"), {}, false, Evidence::Reported,
         community, QStringLiteral("the firmware string"), {}},
        {QStringLiteral("restart"), QStringLiteral("Restart"), QStringLiteral("RESET#"), {}, false, Evidence::Reported, community,
         QStringLiteral("OK or nothing (the unit restarts)"), {}},
        {QStringLiteral("factory"), QStringLiteral("Factory reset"), QStringLiteral("FACTORY#"), {}, true, Evidence::Reported,
         community, QStringLiteral("OK"), QStringLiteral("Erases the server, APN and numbers: the unit goes offline")},
        {QStringLiteral("relay-cut"), QStringLiteral("Cut fuel/power (relay)"), QStringLiteral("RELAY,1#"), {}, true,
         verified("traccar"), QStringLiteral("traccar Gt06ProtocolEncoder.java"),
         QStringLiteral("Cut off the fuel supply: Success!"), QStringLiteral("Stops a running engine on units wired to a relay")},
        {QStringLiteral("relay-restore"), QStringLiteral("Restore fuel/power (relay)"), QStringLiteral("RELAY,0#"), {}, false,
         verified("traccar"), QStringLiteral("traccar Gt06ProtocolEncoder.java"),
         QStringLiteral("Restore fuel supply: Success!"), {}},
    };
    return t;
}

// ---- Topin ZX303 / ZX612 ----
QList<CommandTemplate> topinCommands() {
    const QString src = QStringLiteral("pw,<password>,... syntax of Topin/SeTracker-family user guides; unverified: "
                                       "check the unit's manual");
    const QString ok = QStringLiteral("a short confirmation");
    return {
        {QStringLiteral("server"), QStringLiteral("Set server"), QStringLiteral("pw,{pwd},ip,{host},{port}#"), {host(), port()},
         false, Evidence::Reported, src, ok, {}},
        {QStringLiteral("apn"), QStringLiteral("Set APN"), QStringLiteral("pw,{pwd},apn,{apn}[,{user},{pass}]#"),
         {word("apn", "APN", true), word("user", "APN user", false), word("pass", "APN password", false)}, false,
         Evidence::Reported, src, ok, {}},
        {QStringLiteral("interval"), QStringLiteral("Upload interval"), QStringLiteral("pw,{pwd},upload,{seconds}#"),
         {seconds("seconds", "Interval (s)", true, 10, 86400, "60")}, false, Evidence::Reported, src, ok,
         QStringLiteral("Short intervals drain a small battery within hours")},
        {QStringLiteral("sos"), QStringLiteral("SOS numbers"), QStringLiteral("pw,{pwd},sos,{sos1}[,{sos2}[,{sos3}]]#"),
         {phone("sos1", "SOS number 1", true), phone("sos2", "SOS number 2", false), phone("sos3", "SOS number 3", false)},
         false, Evidence::Reported, src, ok, {}},
        {QStringLiteral("center"), QStringLiteral("Centre number"), QStringLiteral("pw,{pwd},center,{phone}#"),
         {phone("phone", "Centre number", true)}, false, Evidence::Reported, src, ok, {}},
        {QStringLiteral("url"), QStringLiteral("Locate now, map link"), QStringLiteral("pw,{pwd},url#"), {}, false,
         Evidence::Reported, src, QStringLiteral("a map link with the last position"), {}},
        {QStringLiteral("status"), QStringLiteral("Status and parameters"), QStringLiteral("pw,{pwd},ts#"), {}, false,
         Evidence::Reported, src, QStringLiteral("server, APN, interval, battery ..."), {}},
        {QStringLiteral("restart"), QStringLiteral("Restart"), QStringLiteral("pw,{pwd},reset#"), {}, false, Evidence::Reported,
         src, ok, {}},
        {QStringLiteral("factory"), QStringLiteral("Factory reset"), QStringLiteral("pw,{pwd},factory#"), {}, true,
         Evidence::Reported, src, ok, QStringLiteral("Erases the server, APN and numbers: the unit goes offline")},
    };
}

// ---- Xexun / Coban TK102/TK103 ----
QList<CommandTemplate> tk102Commands() {
    auto v = [](const char *s) { return QString::fromLatin1(s); };
    return {
        {QStringLiteral("admin"), QStringLiteral("Admin number"), QStringLiteral("admin{pwd} {phone}"),
         {phone("phone", "Authorised number", true)}, false, Evidence::Verified,
         v("tentone/car-tracker-ionic, michaelkleinhenz/tk102b-server"), QStringLiteral("admin ok"),
         QStringLiteral("Only admin numbers get position replies")},
        {QStringLiteral("noadmin"), QStringLiteral("Delete admin number"), QStringLiteral("noadmin{pwd} {phone}"),
         {phone("phone", "Number to remove", true)}, false, Evidence::Verified, v("ainthek/gps-tracker"), {}, {}},
        {QStringLiteral("server"), QStringLiteral("Set server"), QStringLiteral("adminip{pwd} {host} {port}"), {ipOnly(), port()},
         false, Evidence::Verified, v("fvdm/nodejs-tk102, jimdigriz/gisrec"), QStringLiteral("adminip ok"),
         QStringLiteral("TK102 units take an IP address only (no DNS)")},
        {QStringLiteral("apn"), QStringLiteral("Set APN"), QStringLiteral("apn{pwd} {apn}"), {word("apn", "APN", true)}, false,
         Evidence::Verified, v("jimdigriz/gisrec, tentone"), QStringLiteral("APN ok"), {}},
        {QStringLiteral("apnuser"), QStringLiteral("APN user"), QStringLiteral("apnuser{pwd} {user}"),
         {word("user", "APN user", true)}, false, Evidence::Reported,
         QStringLiteral("keyword reported; the reply 'apnuser ok' is in the Xexun watch manual (5.15.3)"),
         QStringLiteral("apnuser ok"), {}},
        {QStringLiteral("apnpass"), QStringLiteral("APN password"), QStringLiteral("apnpasswd{pwd} {pass}"),
         {word("pass", "APN password", true)}, false, Evidence::Reported,
         QStringLiteral("keyword reported; the reply 'apnpasswrod ok' (sic) is in the Xexun watch manual (5.15.4)"),
         QStringLiteral("apnpasswrod ok"), {}},
        {QStringLiteral("gprs"), QStringLiteral("GPRS mode"), QStringLiteral("gprs{pwd}"), {}, false, Evidence::Verified,
         v("michaelkleinhenz/tk102b-server"), {}, {}},
        {QStringLiteral("interval"), QStringLiteral("Track every ... (forever)"), QStringLiteral("t{interval.tk}***n{pwd}"),
         {seconds("interval", "Interval (s)", true, 10, 999 * 3600, "30", "sent as seconds, minutes or hours (3 digits)")},
         false, Evidence::Verified, v("fvdm/nodejs-tk102"), {}, QStringLiteral("Stop with 'Stop tracking'")},
        {QStringLiteral("notrack"), QStringLiteral("Stop tracking"), QStringLiteral("notn{pwd}"), {}, false, Evidence::Verified,
         v("fvdm/nodejs-tk102"), {}, {}},
        {QStringLiteral("timezone"), QStringLiteral("Time zone"), QStringLiteral("timezone{pwd} {tz.hours}"), {zone()}, false,
         Evidence::Verified, v("michaelkleinhenz/tk102b-server"), {}, QStringLiteral("Whole hours only")},
        {QStringLiteral("sos"), QStringLiteral("SOS number (Coban slot)"), QStringLiteral("10{slot}#{phone}#"),
         {integer("slot", "Slot", 1, 5, "1"), phone("phone", "SOS number", true)}, false, Evidence::Verified,
         v("tentone/car-tracker-ionic (Coban)"), QStringLiteral("ok"), QStringLiteral("Delete a slot with D10<n>#")},
        {QStringLiteral("where"), QStringLiteral("Locate now (Coban g1234)"), QStringLiteral("g1234"), {}, false,
         Evidence::Verified, v("tentone/car-tracker-ionic (Coban)"),
         QStringLiteral("a Google link plus ID:... ACC:... GPS:A Speed:...KM/H yy-mm-dd hh:mm:ss"),
         QStringLiteral("Other units answer a phone call from an admin number with their position")},
        {QStringLiteral("imei"), QStringLiteral("IMEI"), QStringLiteral("imei{pwd}"), {}, false, Evidence::Verified,
         v("TK-203 manual p.12"), QStringLiteral("the IMEI"), {}},
        {QStringLiteral("stopsos"), QStringLiteral("Stop SOS alerts"), QStringLiteral("help me!{pwd}"), {}, false,
         Evidence::Verified, v("TK-203 manual p.12"), QStringLiteral("help me ok!"), {}},
        {QStringLiteral("password"), QStringLiteral("Change password"), QStringLiteral("password{pwd} {new}"),
         {word("new", "New password", true, "", "6 digits")}, false, Evidence::Verified, v("tentone/car-tracker-ionic"),
         QStringLiteral("password ok"), QStringLiteral("Update the device's SMS password in TrackerDesk too")},
        {QStringLiteral("restart"), QStringLiteral("Restart"), QStringLiteral("reset{pwd}"), {}, false, Evidence::Reported,
         QStringLiteral("TK103 manuals, unverified"), {}, {}},
        {QStringLiteral("factory"), QStringLiteral("Initialise (factory settings)"), QStringLiteral("begin{pwd}"), {}, true,
         Evidence::Verified, v("anupama513/Tk102-gps-data-parser-nodejs-server, michaelkleinhenz/tk102b-server"),
         QStringLiteral("begin ok"), QStringLiteral("Resets the unit's settings: admin numbers, server, APN")},
    };
}

QList<Dialect> buildDialects() {
    QList<Dialect> d;
    d.append({Family::Gt06, QStringLiteral("GT06 / Concox / Jimi"),
              QStringLiteral("KEYWORD,arg,...# in ASCII, no password on most firmwares; some restrict who may query "
                             "(WHERE# answered to SOS numbers only)"),
              false, {}, concoxCommands(false)});
    d.append({Family::Topin, QStringLiteral("Topin ZX303 / ZX612"),
              QStringLiteral("pw,<password>,keyword,...# with the password first (default 123456)"), true,
              QStringLiteral("123456"), topinCommands()});
    d.append({Family::Tk102, QStringLiteral("Xexun / Coban TK102 / TK103"),
              QStringLiteral("the password glued to the keyword: begin123456, adminip123456 <ip> <port> (default 123456)"),
              true, QStringLiteral("123456"), tk102Commands()});
    d.append({Family::Jt808, QStringLiteral("JT/T 808 units (Concox/Jimi keywords)"),
              QStringLiteral("KEYWORD,arg,...# like Concox units, no password; other JT/T 808 makers use their own syntax"),
              false, {}, concoxCommands(true)});
    return d;
}

// ---- values ----

const QRegularExpression &domainRe() {
    static const QRegularExpression re(QStringLiteral(
        "^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"));
    return re;
}

bool isIpv4(const QString &s) {
    static const QRegularExpression re(QStringLiteral("^\\d{1,3}(\\.\\d{1,3}){3}$"));
    if (!re.match(s).hasMatch())
        return false;
    for (const QString &part : s.split(QLatin1Char('.')))
        if (part.toInt() > 255)
            return false;
    return true;
}

// "+8", "-5:30", "UTC+8", "GMT-3", "0" -> minutes east of UTC.
std::optional<int> parseZone(const QString &text) {
    static const QRegularExpression re(QStringLiteral("^(?:UTC|GMT)?\\s*([+-])?\\s*(\\d{1,2})(?::?(\\d{2}))?$"),
                                       QRegularExpression::CaseInsensitiveOption);
    const auto m = re.match(text.trimmed());
    if (!m.hasMatch())
        return std::nullopt;
    const int h = m.captured(2).toInt();
    const int min = m.captured(3).isEmpty() ? 0 : m.captured(3).toInt();
    if (min % 15 != 0 || min >= 60)
        return std::nullopt;
    const int total = (h * 60 + min) * (m.captured(1) == QLatin1String("-") ? -1 : 1);
    if (total < -12 * 60 || total > 14 * 60)
        return std::nullopt;
    return total;
}

QString normalisePhone(const QString &s) {
    QString out;
    for (QChar c : s)
        if (c != QLatin1Char(' ') && c != QLatin1Char('-') && c != QLatin1Char('(') && c != QLatin1Char(')') && c != QLatin1Char('.'))
            out += c;
    return out;
}

const char kSeparators[] = ",#; ";

// The value of {name} / {name.sub}; *error set when the value cannot take this form.
QString derived(const Param &p, const QString &value, const QString &sub, QString *error) {
    if (value.isEmpty())
        return {};
    switch (p.type) {
    case ParamType::Host:
    case ParamType::IpAddress:
        if (sub == QLatin1String("kind"))
            return isIpv4(value) ? QStringLiteral("0") : QStringLiteral("1");
        break;
    case ParamType::Seconds:
        if (sub == QLatin1String("tk")) {
            const int s = value.toInt();
            if (s < 1000)
                return QStringLiteral("%1s").arg(s, 3, 10, QLatin1Char('0'));
            if (s % 60 == 0 && s / 60 < 1000)
                return QStringLiteral("%1m").arg(s / 60, 3, 10, QLatin1Char('0'));
            if (s % 3600 == 0 && s / 3600 < 1000)
                return QStringLiteral("%1h").arg(s / 3600, 3, 10, QLatin1Char('0'));
            *error = QStringLiteral("%1: %2 s cannot be written as 3 digits of seconds, whole minutes or whole hours")
                         .arg(p.label).arg(s);
            return {};
        }
        break;
    case ParamType::TimeZone: {
        const int m = *parseZone(value);  // validated before
        if (sub == QLatin1String("ew"))
            return m < 0 ? QStringLiteral("W") : QStringLiteral("E");
        if (sub == QLatin1String("h"))
            return QString::number(qAbs(m) / 60);
        if (sub == QLatin1String("m"))
            return QString::number(qAbs(m) % 60);
        if (sub == QLatin1String("hours")) {
            if (m % 60 != 0) {
                *error = QStringLiteral("%1: this tracker takes whole hours only, not %2").arg(p.label, value);
                return {};
            }
            return QString::number(m / 60);
        }
        if (sub.isEmpty())
            return QString::number(m);
        break;
    }
    case ParamType::Phone:
        if (sub.isEmpty())
            return normalisePhone(value);
        break;
    case ParamType::Port:
    case ParamType::Integer:
        if (sub.isEmpty())
            return QString::number(value.toInt());
        break;
    default:
        break;
    }
    if (sub.isEmpty())
        return value;
    *error = QStringLiteral("template error: {%1.%2} is not a form of a %3 parameter").arg(p.id, sub, p.label);
    return {};
}

struct Renderer {
    const CommandTemplate &command;
    const Values &values;
    QString password;
    QString error;

    // Renders pattern[pos..] up to the closing ']' of the current section (or the end).
    // *any: a placeholder inside had a value.
    QString render(const QString &pattern, int &pos, bool *any) {
        QString out;
        while (pos < pattern.size() && error.isEmpty()) {
            const QChar c = pattern.at(pos);
            if (c == QLatin1Char(']')) {
                ++pos;
                return out;
            }
            if (c == QLatin1Char('[')) {
                ++pos;
                bool inner = false;
                const QString section = render(pattern, pos, &inner);
                if (inner) {
                    out += section;
                    *any = true;
                }
                continue;
            }
            if (c == QLatin1Char('{')) {
                const int close = pattern.indexOf(QLatin1Char('}'), pos);
                if (close < 0) {
                    error = QStringLiteral("template error: unclosed { in %1").arg(pattern);
                    return {};
                }
                const QString name = pattern.mid(pos + 1, close - pos - 1);
                pos = close + 1;
                const QString v = value(name);
                if (!v.isEmpty())
                    *any = true;
                out += v;
                continue;
            }
            out += c;
            ++pos;
        }
        return out;
    }

    QString value(const QString &name) {
        if (name == QLatin1String("pwd"))
            return password;
        const int dot = name.indexOf(QLatin1Char('.'));
        const QString id = dot < 0 ? name : name.left(dot);
        const QString sub = dot < 0 ? QString() : name.mid(dot + 1);
        for (const Param &p : command.params)
            if (p.id == id)
                return derived(p, values.value(id).trimmed(), sub, &error);
        error = QStringLiteral("template error: {%1} names no parameter of %2").arg(name, command.id);
        return {};
    }
};

} // namespace

QString familyId(Family f) {
    switch (f) {
    case Family::Gt06: return QStringLiteral("gt06");
    case Family::Topin: return QStringLiteral("topin");
    case Family::Tk102: return QStringLiteral("tk102");
    case Family::Jt808: return QStringLiteral("jt808");
    }
    return {};
}

std::optional<Family> familyFromId(const QString &id) {
    for (const Dialect &d : dialects())
        if (familyId(d.family) == id.trimmed().toLower())
            return d.family;
    return std::nullopt;
}

Family familyForDevice(const QString &protocol, const QString &model) {
    const QString m = model.toLower();
    for (const char *k : {"tk10", "coban", "xexun", "tk-10"})
        if (m.contains(QLatin1String(k)))
            return Family::Tk102;
    if (protocol == QLatin1String("topin") || m.contains(QLatin1String("topin")) || m.startsWith(QLatin1String("zx")))
        return Family::Topin;
    if (protocol == QLatin1String("jt808"))
        return Family::Jt808;
    return Family::Gt06;
}

const QList<Dialect> &dialects() {
    static const QList<Dialect> all = buildDialects();
    return all;
}

const Dialect &dialect(Family f) {
    for (const Dialect &d : dialects())
        if (d.family == f)
            return d;
    return dialects().first();
}

const CommandTemplate *findCommand(Family f, const QString &commandId) {
    for (const CommandTemplate &c : dialect(f).commands)
        if (c.id == commandId)
            return &c;
    return nullptr;
}

QString validateParam(const Param &p, const QString &raw) {
    const QString v = raw.trimmed();
    if (v.isEmpty())
        return p.required ? QStringLiteral("%1 is required").arg(p.label) : QString();
    switch (p.type) {
    case ParamType::Host:
        if (v.size() > 64)
            return QStringLiteral("%1: at most 64 characters").arg(p.label);
        if (!isIpv4(v) && !domainRe().match(v).hasMatch())
            return QStringLiteral("%1: '%2' is not an IPv4 address or a domain name").arg(p.label, v);
        if (!isIpv4(v) && !v.contains(QRegularExpression(QStringLiteral("[A-Za-z]"))))
            return QStringLiteral("%1: '%2' is not a valid IPv4 address").arg(p.label, v);
        return {};
    case ParamType::IpAddress:
        if (!isIpv4(v))
            return QStringLiteral("%1: '%2' is not an IPv4 address (this tracker cannot resolve names)").arg(p.label, v);
        return {};
    case ParamType::Port: {
        bool ok = false;
        const int n = v.toInt(&ok);
        if (!ok || n < 1 || n > 65535)
            return QStringLiteral("%1: %2 is not between 1 and 65535").arg(p.label, v);
        return {};
    }
    case ParamType::Seconds:
    case ParamType::Integer: {
        bool ok = false;
        const int n = v.toInt(&ok);
        if (!ok || n < p.min || n > p.max)
            return QStringLiteral("%1: %2 is not between %3 and %4").arg(p.label, v).arg(p.min).arg(p.max);
        return {};
    }
    case ParamType::TimeZone:
        if (!parseZone(v))
            return QStringLiteral("%1: '%2' is not a UTC offset between -12:00 and +14:00 in quarter hours (e.g. +8, -5:30)")
                .arg(p.label, v);
        return {};
    case ParamType::Phone: {
        static const QRegularExpression re(QStringLiteral("^\\+?\\d{3,20}$"));
        if (!re.match(normalisePhone(v)).hasMatch())
            return QStringLiteral("%1: '%2' is not a phone number (digits, optionally a leading +)").arg(p.label, v);
        return {};
    }
    case ParamType::Word:
        if (v.size() > 50)
            return QStringLiteral("%1: at most 50 characters").arg(p.label);
        for (QChar c : v) {
            if (c.unicode() < 0x21 || c.unicode() > 0x7e || std::strchr(kSeparators, char(c.unicode())))
                return QStringLiteral("%1: '%2' contains '%3', which the tracker would read as a separator or cannot take")
                    .arg(p.label, v, c);
        }
        return checkCommandText(v).isEmpty()
            ? QString()
            : QStringLiteral("%1: %2").arg(p.label, checkCommandText(v));
    }
    return {};
}

QString checkCommandText(const QString &text) {
    if (text.trimmed().isEmpty())
        return QStringLiteral("the command is empty");
    if (text.size() > 160)
        return QStringLiteral("the command has %1 characters; one SMS takes 160").arg(text.size());
    static const QString extension = QStringLiteral("{}[]~^|\\`");
    for (QChar c : text) {
        if (c.unicode() < 0x20 || c.unicode() > 0x7e)
            return QStringLiteral("'%1' (U+%2) is not a plain GSM 7-bit character; trackers take ASCII commands")
                .arg(c.isPrint() ? QString(c) : QString()).arg(c.unicode(), 4, 16, QLatin1Char('0'));
        if (extension.contains(c))
            return QStringLiteral("'%1' is an extension character (two septets) that trackers reject").arg(c);
    }
    return {};
}

std::optional<QString> formatCommand(Family f, const QString &commandId, const Values &values, const QString &password,
                                     QString *error) {
    auto fail = [error](const QString &e) -> std::optional<QString> {
        if (error) *error = e;
        return std::nullopt;
    };
    const Dialect &d = dialect(f);
    const CommandTemplate *c = findCommand(f, commandId);
    if (!c)
        return fail(QStringLiteral("%1 has no command '%2'").arg(d.name, commandId));
    for (const Param &p : c->params) {
        const QString why = validateParam(p, values.value(p.id));
        if (!why.isEmpty())
            return fail(why);
    }
    for (auto it = values.begin(); it != values.end(); ++it) {
        bool known = false;
        for (const Param &p : c->params)
            known |= p.id == it.key();
        if (!known && !it.value().trimmed().isEmpty())
            return fail(QStringLiteral("%1 takes no parameter '%2'").arg(c->label, it.key()));
    }
    QString pwd = password.trimmed();
    if (d.usesPassword) {
        if (pwd.isEmpty())
            pwd = d.defaultPassword;
        static const QRegularExpression re(QStringLiteral("^[A-Za-z0-9]{1,16}$"));
        if (!re.match(pwd).hasMatch())
            return fail(QStringLiteral("the SMS password '%1' is not 1 to 16 letters or digits").arg(pwd));
    }
    Renderer r{*c, values, pwd, {}};
    int pos = 0;
    bool any = false;
    const QString text = r.render(c->pattern, pos, &any);
    if (!r.error.isEmpty())
        return fail(r.error);
    const QString why = checkCommandText(text);
    if (!why.isEmpty())
        return fail(why);
    return text;
}

QStringList placeholders(const QString &pattern) {
    QStringList out;
    static const QRegularExpression re(QStringLiteral("\\{([^}]*)\\}"));
    for (auto it = re.globalMatch(pattern); it.hasNext();)
        out << it.next().captured(1);
    return out;
}

} // namespace td::proto::commands
