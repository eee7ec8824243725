#include "core/settings.h"

#include <QDir>
#include <QStandardPaths>
#include <QUrl>

namespace td {

QString TileSource::osmPluginHost() const {
    QString u = urlTemplate;
    u.replace(QLatin1String("{z}"), QLatin1String("%z"));
    u.replace(QLatin1String("{x}"), QLatin1String("%x"));
    u.replace(QLatin1String("{y}"), QLatin1String("%y"));
    return u;
}

bool TileSource::isValidTemplate(const QString &url, QString *why) {
    const QUrl u(QString(url).replace(QLatin1Char('{'), QLatin1Char('_')).replace(QLatin1Char('}'), QLatin1Char('_')),
                 QUrl::StrictMode);
    auto fail = [why](const QString &w) { if (why) *why = w; return false; };
    if (!u.isValid() || (u.scheme() != QLatin1String("http") && u.scheme() != QLatin1String("https")))
        return fail(QStringLiteral("the tile URL must start with http:// or https://"));
    if (u.host().isEmpty())
        return fail(QStringLiteral("the tile URL has no host"));
    for (const char *p : {"{z}", "{x}", "{y}"})
        if (!url.contains(QLatin1String(p)))
            return fail(QStringLiteral("the tile URL must contain {z}, {x} and {y} (missing %1)").arg(QLatin1String(p)));
    return true;
}

AppSettings::AppSettings(const QString &iniFile)
    : m_settings(iniFile.isEmpty() ? QSettings() : QSettings(iniFile, QSettings::IniFormat)) {}

QString AppSettings::defaultTileUrl() { return QStringLiteral("https://tile.openstreetmap.org/{z}/{x}/{y}.png"); }

quint16 AppSettings::port() const {
    const QVariant v = m_settings.value(QStringLiteral("server/port"));
    if (!v.isValid())
        return DefaultPort;
    bool ok = false;
    const int p = v.toInt(&ok);
    if (!ok || p < 1 || p > 65535) {
        m_problems << QStringLiteral("setting server/port = '%1' is not a port number; using %2").arg(v.toString()).arg(DefaultPort);
        return DefaultPort;
    }
    return quint16(p);
}
void AppSettings::setPort(quint16 port) { m_settings.setValue(QStringLiteral("server/port"), port); }

QHostAddress AppSettings::listenAddress() const {
    const QString s = m_settings.value(QStringLiteral("server/listen")).toString();
    if (s.isEmpty())
        return QHostAddress::Any;
    QHostAddress a;
    if (!a.setAddress(s)) {
        m_problems << QStringLiteral("setting server/listen = '%1' is not an IP address; listening on all addresses").arg(s);
        return QHostAddress::Any;
    }
    return a;
}
void AppSettings::setListenAddress(const QHostAddress &a) { m_settings.setValue(QStringLiteral("server/listen"), a.toString()); }

QString AppSettings::dataDir() const {
    const QString s = m_settings.value(QStringLiteral("store/dataDir")).toString();
    return s.isEmpty() ? QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) : s;
}
void AppSettings::setDataDir(const QString &dir) { m_settings.setValue(QStringLiteral("store/dataDir"), dir); }

TileSource AppSettings::tileSource() const {
    TileSource t;
    t.urlTemplate = m_settings.value(QStringLiteral("map/tileUrl"), defaultTileUrl()).toString();
    QString why;
    if (!TileSource::isValidTemplate(t.urlTemplate, &why)) {
        m_problems << QStringLiteral("setting map/tileUrl = '%1' is invalid (%2); using OpenStreetMap").arg(t.urlTemplate, why);
        t.urlTemplate = defaultTileUrl();
    }
    t.cacheDir = m_settings.value(QStringLiteral("map/tileCache")).toString();
    if (t.cacheDir.isEmpty())
        t.cacheDir = QStandardPaths::writableLocation(QStandardPaths::CacheLocation) + QStringLiteral("/tiles");
    return t;
}
void AppSettings::setTileSource(const TileSource &s) {
    m_settings.setValue(QStringLiteral("map/tileUrl"), s.urlTemplate);
    m_settings.setValue(QStringLiteral("map/tileCache"), s.cacheDir);
}

} // namespace td
