#include "trackerdesk/protocol/frame.h"

#include <algorithm>
#include <cctype>

namespace td::proto {

QString positionSourceName(PositionSource s) {
    switch (s) {
    case PositionSource::Gps: return QStringLiteral("gps");
    case PositionSource::Lbs: return QStringLiteral("lbs");
    case PositionSource::Wifi: return QStringLiteral("wifi");
    case PositionSource::Sms: return QStringLiteral("sms");
    }
    return QStringLiteral("gps");
}

QString messageKindName(MessageKind k) {
    switch (k) {
    case MessageKind::Unknown: return QStringLiteral("unknown");
    case MessageKind::Login: return QStringLiteral("login");
    case MessageKind::Heartbeat: return QStringLiteral("heartbeat");
    case MessageKind::Position: return QStringLiteral("position");
    case MessageKind::Lbs: return QStringLiteral("lbs");
    case MessageKind::Alarm: return QStringLiteral("alarm");
    case MessageKind::Status: return QStringLiteral("status");
    case MessageKind::CommandReply: return QStringLiteral("command-reply");
    case MessageKind::TimeRequest: return QStringLiteral("time-request");
    case MessageKind::Information: return QStringLiteral("information");
    case MessageKind::Logout: return QStringLiteral("logout");
    case MessageKind::GeneralResponse: return QStringLiteral("general-response");
    case MessageKind::Downlink: return QStringLiteral("downlink");
    }
    return QStringLiteral("unknown");
}

static QString checkChildren(const Field &parent, const QString &path) {
    for (const Field &c : parent.children) {
        const QString p = path + QLatin1String(" > ") + c.name;
        if (c.length < 0 || c.offset < parent.offset || c.end() > parent.end())
            return QStringLiteral("%1 [%2,+%3] lies outside its parent [%4,+%5]")
                .arg(p).arg(c.offset).arg(c.length).arg(parent.offset).arg(parent.length);
        const QString sub = checkChildren(c, p);
        if (!sub.isEmpty())
            return sub;
    }
    return {};
}

QString checkFieldCoverage(const QList<Field> &fields, int frameLength) {
    int pos = 0;
    for (const Field &f : fields) {
        if (f.length <= 0)
            return QStringLiteral("top-level field '%1' has length %2").arg(f.name).arg(f.length);
        if (f.offset != pos)
            return QStringLiteral("top-level field '%1' starts at %2, expected %3 (%4)")
                .arg(f.name).arg(f.offset).arg(pos).arg(f.offset > pos ? QStringLiteral("gap") : QStringLiteral("overlap"));
        pos = f.end();
        const QString sub = checkChildren(f, f.name);
        if (!sub.isEmpty())
            return sub;
    }
    if (pos != frameLength)
        return QStringLiteral("fields end at %1 but the frame has %2 bytes").arg(pos).arg(frameLength);
    return {};
}

static bool pathAt(const QList<Field> &fields, int offset, QList<int> &path) {
    for (int i = 0; i < fields.size(); ++i) {
        const Field &f = fields[i];
        if (offset >= f.offset && offset < f.end()) {
            path.append(i);
            pathAt(f.children, offset, path);
            return true;
        }
    }
    return false;
}

QList<int> fieldPathAt(const QList<Field> &fields, int offset) {
    QList<int> path;
    pathAt(fields, offset, path);
    return path;
}

static void formatField(const Field &f, int depth, QString &out) {
    out += QString(depth * 4, QLatin1Char(' '));
    out += QStringLiteral("[%1..%2] ").arg(f.offset, 3).arg(f.end() - 1, 3);
    out += f.name;
    if (!f.value.isEmpty())
        out += QLatin1String(": ") + f.value;
    if (!f.warning.isEmpty())
        out += QLatin1String("  [WARNING: ") + f.warning + QLatin1Char(']');
    out += QLatin1Char('\n');
    for (const Field &c : f.children)
        formatField(c, depth + 1, out);
}

QString typeIdText(int type) {
    if (type < 0)
        return {};
    return QStringLiteral("0x%1").arg(type, type > 0xFF ? 4 : 2, 16, QLatin1Char('0'));
}

QString formatFieldTree(const DecodedFrame &frame) {
    QString out;
    out += frame.type >= 0 ? QStringLiteral("%1 %2 (%3), %4 bytes")
                                 .arg(frame.protocol.toUpper(), frame.typeName, typeIdText(frame.type))
                                 .arg(frame.bytes.size())
                           : QStringLiteral("%1 %2, %3 bytes").arg(frame.protocol.toUpper(), frame.typeName).arg(frame.bytes.size());
    if (!frame.summary.isEmpty())
        out += QLatin1String(": ") + frame.summary;
    out += QLatin1Char('\n');
    for (const QString &w : frame.warnings)
        out += QLatin1String("  WARNING: ") + w + QLatin1Char('\n');
    for (const Field &f : frame.fields)
        formatField(f, 1, out);
    return out;
}

QString toHex(const QByteArray &bytes, char separator) {
    return QString::fromLatin1(separator ? bytes.toHex(separator) : bytes.toHex());
}

std::optional<QByteArray> fromHex(const QString &text, QString *error) {
    QString clean;
    clean.reserve(text.size());
    QString t = text.trimmed();
    if (t.startsWith(QLatin1String("0x"), Qt::CaseInsensitive))
        t = t.mid(2);
    for (QChar c : std::as_const(t)) {
        if (c.isSpace() || c == QLatin1Char(':') || c == QLatin1Char('-'))
            continue;
        if (!std::isxdigit(static_cast<unsigned char>(c.toLatin1())) || c.unicode() > 127) {
            if (error)
                *error = c.isPrint() ? QStringLiteral("not a hex digit: '%1'").arg(c)
                                     : QStringLiteral("not a hex digit: U+%1")   // a control character: named, not printed
                                           .arg(QString::number(c.unicode(), 16).toUpper().rightJustified(4, QLatin1Char('0')));
            return std::nullopt;
        }
        clean.append(c);
    }
    if (clean.isEmpty()) {
        if (error)
            *error = QStringLiteral("no hex digits");
        return std::nullopt;
    }
    if (clean.size() % 2) {
        if (error)
            *error = QStringLiteral("odd number of hex digits (%1)").arg(clean.size());
        return std::nullopt;
    }
    return QByteArray::fromHex(clean.toLatin1());
}

} // namespace td::proto

#include <QJsonArray>

namespace td::proto {

static QJsonObject fieldToJson(const Field &f) {
    QJsonObject o{{QStringLiteral("name"), f.name}, {QStringLiteral("offset"), f.offset},
                  {QStringLiteral("length"), f.length}, {QStringLiteral("value"), f.value}};
    if (!f.warning.isEmpty())
        o.insert(QStringLiteral("warning"), f.warning);
    if (!f.children.isEmpty()) {
        QJsonArray c;
        for (const Field &ch : f.children)
            c.append(fieldToJson(ch));
        o.insert(QStringLiteral("children"), c);
    }
    return o;
}

QJsonObject positionToJson(const Position &p) {
    QJsonObject o{{QStringLiteral("source"), positionSourceName(p.source)},
                  {QStringLiteral("valid"), p.valid}};
    if (p.time.isValid())
        o.insert(QStringLiteral("time"), p.time.toUTC().toString(Qt::ISODate));
    if (p.hasCoordinates) {
        o.insert(QStringLiteral("lat"), p.latitude);
        o.insert(QStringLiteral("lon"), p.longitude);
    }
    if (p.altitude) o.insert(QStringLiteral("altitude"), *p.altitude);
    if (p.speedKmh) o.insert(QStringLiteral("speed_kmh"), *p.speedKmh);
    if (p.course) o.insert(QStringLiteral("course"), *p.course);
    if (p.satellites) o.insert(QStringLiteral("satellites"), *p.satellites);
    if (p.accuracy) o.insert(QStringLiteral("accuracy_m"), *p.accuracy);
    if (!p.cells.isEmpty()) {
        QJsonArray a;
        for (const CellTower &c : p.cells)
            a.append(QJsonObject{{QStringLiteral("mcc"), c.mcc}, {QStringLiteral("mnc"), c.mnc},
                                 {QStringLiteral("lac"), double(c.lac)}, {QStringLiteral("cell"), double(c.cellId)},
                                 {QStringLiteral("signal"), c.signal}});
        o.insert(QStringLiteral("cells"), a);
    }
    if (!p.wifi.isEmpty()) {
        QJsonArray a;
        for (const WifiAccessPoint &w : p.wifi)
            a.append(QJsonObject{{QStringLiteral("bssid"), w.bssid}, {QStringLiteral("rssi"), w.rssi}});
        o.insert(QStringLiteral("wifi"), a);
    }
    return o;
}

QJsonObject frameToJson(const DecodedFrame &frame) {
    QJsonObject o{{QStringLiteral("protocol"), frame.protocol}, {QStringLiteral("type"), frame.type},
                  {QStringLiteral("type_name"), frame.typeName}, {QStringLiteral("summary"), frame.summary},
                  {QStringLiteral("hex"), toHex(frame.bytes)}, {QStringLiteral("serial"), frame.serial},
                  {QStringLiteral("kind"), messageKindName(frame.message.kind)}};
    if (!frame.wire.isEmpty())
        o.insert(QStringLiteral("wire_hex"), toHex(frame.wire));
    if (!frame.message.deviceId.isEmpty())
        o.insert(QStringLiteral("device_id"), frame.message.deviceId);
    QJsonArray warnings;
    for (const QString &w : frame.warnings)
        warnings.append(w);
    o.insert(QStringLiteral("warnings"), warnings);
    QJsonArray fields;
    for (const Field &f : frame.fields)
        fields.append(fieldToJson(f));
    o.insert(QStringLiteral("fields"), fields);
    QJsonArray positions;
    for (const Position &p : frame.message.positions)
        positions.append(positionToJson(p));
    if (!positions.isEmpty())
        o.insert(QStringLiteral("positions"), positions);
    const Message &m = frame.message;
    if (m.status) {
        QJsonObject s;
        if (m.status->batteryPercent) s.insert(QStringLiteral("battery_percent"), *m.status->batteryPercent);
        if (m.status->batteryVolts) s.insert(QStringLiteral("battery_volts"), *m.status->batteryVolts);
        if (m.status->gsmSignal) s.insert(QStringLiteral("gsm_signal"), *m.status->gsmSignal);
        if (m.status->charging) s.insert(QStringLiteral("charging"), *m.status->charging);
        if (m.status->acc) s.insert(QStringLiteral("acc"), *m.status->acc);
        if (m.status->armed) s.insert(QStringLiteral("armed"), *m.status->armed);
        o.insert(QStringLiteral("status"), s);
    }
    if (!m.alarms.isEmpty())
        o.insert(QStringLiteral("alarms"), QJsonArray::fromStringList(m.alarms));
    if (!m.text.isEmpty())
        o.insert(QStringLiteral("text"), m.text);
    QJsonArray replies;
    for (const QByteArray &r : frame.replies)
        replies.append(toHex(r));
    o.insert(QStringLiteral("replies"), replies);
    return o;
}

} // namespace td::proto
