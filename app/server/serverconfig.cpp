#include "server/serverconfig.h"

#include "core/settings.h"

#include "trackerdesk/protocol/protocol.h"

namespace td::server {

namespace {

int readInt(QSettings &s, const QString &key, int def, int min, int max, QStringList *problems) {
    const QVariant v = s.value(key);
    if (!v.isValid())
        return def;
    bool ok = false;
    const int n = v.toString().trimmed().toInt(&ok);
    if (!ok || n < min || n > max) {
        if (problems)
            *problems << QStringLiteral("setting %1 = '%2' is not a number from %3 to %4; using %5")
                             .arg(key, v.toString()).arg(min).arg(max).arg(def);
        return def;
    }
    return n;
}

bool readBool(QSettings &s, const QString &key, bool def, QStringList *problems) {
    const QVariant v = s.value(key);
    if (!v.isValid())
        return def;
    const QString t = v.toString().trimmed().toLower();
    if (t == QLatin1String("true") || t == QLatin1String("1") || t == QLatin1String("yes"))
        return true;
    if (t == QLatin1String("false") || t == QLatin1String("0") || t == QLatin1String("no"))
        return false;
    if (problems)
        *problems << QStringLiteral("setting %1 = '%2' is not true/false; using %3").arg(key, v.toString(), def ? QStringLiteral("true") : QStringLiteral("false"));
    return def;
}

} // namespace

ServerConfig serverConfigFromSettings(AppSettings &settings, QStringList *problems) {
    ServerConfig c;
    QSettings &s = settings.raw();
    c.listeners.clear();
    ListenSpec main;
    main.address = settings.listenAddress();
    main.port = settings.port();
    c.listeners << main;
    // Extra ports with a fixed protocol: "5024=jt808, 5025=gt06".
    const QString extra = s.value(QStringLiteral("server/extraPorts")).toStringList().join(QLatin1Char(','));
    for (const QString &part : extra.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        const QStringList kv = part.trimmed().split(QLatin1Char('='));
        bool ok = false;
        const int port = kv.value(0).trimmed().toInt(&ok);
        const QString proto = kv.value(1).trimmed();
        if (kv.size() != 2 || !ok || port < 1 || port > 65535 || !proto::protocolById(proto)) {
            if (problems)
                *problems << QStringLiteral("setting server/extraPorts: '%1' is not PORT=PROTOCOL with a known protocol; ignored").arg(part.trimmed());
            continue;
        }
        c.listeners << ListenSpec{main.address, quint16(port), proto};
    }
    c.idleTimeoutSec = readInt(s, QStringLiteral("server/idleTimeoutSec"), c.idleTimeoutSec, 1, 86400, problems);
    c.maxConnections = readInt(s, QStringLiteral("server/maxConnections"), c.maxConnections, 1, 1000000, problems);
    c.maxConnectionsPerIp = readInt(s, QStringLiteral("server/maxConnectionsPerIp"), c.maxConnectionsPerIp, 1, 1000000, problems);
    c.garbageBudgetBytes = readInt(s, QStringLiteral("server/garbageBudgetBytes"), c.garbageBudgetBytes, 0, 1 << 30, problems);
    c.acceptUnknownDevices = readBool(s, QStringLiteral("server/acceptUnknownDevices"), c.acceptUnknownDevices, problems);
    c.strictChecksum = readBool(s, QStringLiteral("server/strictChecksum"), c.strictChecksum, problems);
    return c;
}

} // namespace td::server
