// Application settings shared by GUI, headless mode and CLI. Values are validated on
// read: a corrupt or out-of-range value falls back to its default and is reported in
// problems(), never trusted blindly. The command line wins over stored settings.
#pragma once

#include <QHostAddress>
#include <QSettings>
#include <QString>
#include <QStringList>

namespace td {

struct TileSource {
    QString urlTemplate;   // "{z}/{x}/{y}" form as the user typed it
    QString cacheDir;
    // The template in the form the QtLocation osm plugin expects (%z/%x/%y).
    QString osmPluginHost() const;
    static bool isValidTemplate(const QString &url, QString *why = nullptr);
};

class AppSettings {
public:
    // Uses the platform's settings location (QSettings default) unless a file is given.
    explicit AppSettings(const QString &iniFile = QString());

    static constexpr quint16 DefaultPort = 5023;
    static QString defaultTileUrl();

    quint16 port() const;
    void setPort(quint16 port);
    QHostAddress listenAddress() const;
    void setListenAddress(const QHostAddress &address);
    QString dataDir() const;          // QStandardPaths::AppDataLocation unless set
    void setDataDir(const QString &dir);
    TileSource tileSource() const;
    void setTileSource(const TileSource &source);

    // Problems found while reading (corrupt values replaced by defaults).
    QStringList problems() const { return m_problems; }
    QSettings &raw() { return m_settings; }

private:
    mutable QSettings m_settings;
    mutable QStringList m_problems;
};

} // namespace td
