#include "geo/geoconfig.h"

#include "core/settings.h"
#include "geo/googleshapeprovider.h"
#include "geo/secretstore.h"

#include <QDir>
#include <QFile>

namespace td::geo {

namespace {

struct IntSetting {
    const char *key;
    int GeoConfig::*field;
    int min, max;
    int scale;        // stored value * scale = field value (seconds -> ms)
};

// One table for the numeric settings.
const IntSetting kInts[] = {
    {"geo/dailyBudget", &GeoConfig::dailyBudget, 0, 10000000, 1},
    {"geo/minIntervalMs", &GeoConfig::minIntervalMs, 0, 3600000, 1},
    {"geo/timeoutMs", &GeoConfig::timeoutMs, 500, 120000, 1},
    {"geo/cacheTtlSec", &GeoConfig::cacheTtlSec, 0, 30 * 86400, 1},
    {"geo/retryBaseSec", &GeoConfig::retryBaseMs, 1, 86400, 1000},
    {"geo/maxAttempts", &GeoConfig::maxAttempts, 1, 100, 1},
};

} // namespace

QUrl GeoConfig::effectiveUrl() const { return url.isEmpty() ? GoogleShapeProvider::googleUrl() : url; }

QStringList knownGeoProviders() { return {QStringLiteral("web"), QStringLiteral("offline")}; }

QString geoProviderDisplayName(const QString &id) {
    if (id == QLatin1String("web"))
        return QStringLiteral("Web service (Google Geolocation API shape)");
    if (id == QLatin1String("offline"))
        return QStringLiteral("Offline cell database (imported OpenCelliD / Wi-Fi data)");
    return id;
}

QHash<QString, QString> readDotEnv(const QString &path, QStringList *problems) {
    QHash<QString, QString> out;
    QFile f(path);
    if (!f.exists())
        return out;
    if (!f.open(QIODevice::ReadOnly)) {
        if (problems)
            *problems << QStringLiteral("cannot read %1: %2").arg(path, f.errorString());
        return out;
    }
    int lineNo = 0;
    while (!f.atEnd() && lineNo < 10000) {
        ++lineNo;
        QString line = QString::fromUtf8(f.readLine(64 * 1024)).trimmed();
        if (line.isEmpty() || line.startsWith(QLatin1Char('#')))
            continue;
        if (line.startsWith(QLatin1String("export ")))
            line = line.mid(7).trimmed();
        const int eq = line.indexOf(QLatin1Char('='));
        const QString key = eq > 0 ? line.left(eq).trimmed() : QString();
        bool keyOk = !key.isEmpty();
        for (QChar c : key)
            keyOk = keyOk && (c.isLetterOrNumber() || c == QLatin1Char('_'));
        if (!keyOk) {
            if (problems)
                *problems << QStringLiteral("%1 line %2 is not KEY=VALUE; ignored").arg(path).arg(lineNo);
            continue;
        }
        QString value = line.mid(eq + 1).trimmed();
        if (value.size() >= 2 && (value.startsWith(QLatin1Char('"')) || value.startsWith(QLatin1Char('\'')))) {
            const QChar q = value[0];
            const int end = value.indexOf(q, 1);
            if (end < 0) {
                if (problems)
                    *problems << QStringLiteral("%1 line %2 has an unterminated quote; ignored").arg(path).arg(lineNo);
                continue;
            }
            value = value.mid(1, end - 1);
        } else {
            const int hash = value.indexOf(QLatin1String(" #"));
            if (hash >= 0)
                value = value.left(hash).trimmed();
        }
        out.insert(key, value);
    }
    return out;
}

GeoConfig loadGeoConfig(AppSettings &settings, const QString &dataDir, SecretStore &secrets, QStringList *problems) {
    GeoConfig c;
    QSettings &s = settings.raw();
    auto problem = [problems](const QString &p) {
        if (problems)
            *problems << p;
    };
    c.enabled = s.value(QStringLiteral("geo/enabled"), true).toBool();
    c.replyToDevices = s.value(QStringLiteral("geo/replyToDevices"), true).toBool();
    for (const IntSetting &i : kInts) {
        const QVariant v = s.value(QLatin1String(i.key));
        if (!v.isValid())
            continue;
        bool ok = false;
        const qlonglong n = v.toString().trimmed().toLongLong(&ok);
        if (!ok || n < i.min || n > i.max) {
            problem(QStringLiteral("setting %1 = '%2' is not a number from %3 to %4; using the default")
                        .arg(QLatin1String(i.key), v.toString()).arg(i.min).arg(i.max));
            continue;
        }
        c.*(i.field) = int(n) * i.scale;
    }
    if (s.contains(QStringLiteral("geo/providers"))) {
        const QStringList raw = s.value(QStringLiteral("geo/providers")).toString().split(QLatin1Char(','), Qt::SkipEmptyParts);
        QStringList list;
        for (const QString &r : raw) {
            const QString id = r.trimmed().toLower();
            if (!knownGeoProviders().contains(id))
                problem(QStringLiteral("setting geo/providers names an unknown provider '%1'; ignored").arg(id));
            else if (!list.contains(id))
                list << id;
        }
        c.providers = list;
    }

    const QHash<QString, QString> env = readDotEnv(QDir(dataDir).filePath(QStringLiteral(".env")), problems);
    const QString url = s.value(QStringLiteral("geo/url")).toString().trimmed();
    auto validUrl = [](const QUrl &u) {
        return u.isValid() && !u.host().isEmpty() && (u.scheme() == QLatin1String("https") || u.scheme() == QLatin1String("http"));
    };
    if (!url.isEmpty()) {
        const QUrl u(url, QUrl::StrictMode);
        if (validUrl(u)) {
            c.url = u;
            c.urlOrigin = QStringLiteral("settings");
        } else {
            problem(QStringLiteral("setting geo/url = '%1' is not an http(s) URL; using the default").arg(url));
        }
    }
    if (c.url.isEmpty() && !env.value(QStringLiteral("GEOLOCATION_URL")).isEmpty()) {
        const QUrl u(env.value(QStringLiteral("GEOLOCATION_URL")), QUrl::StrictMode);
        if (validUrl(u)) {
            c.url = u;
            c.urlOrigin = QStringLiteral(".env");
        } else {
            problem(QStringLiteral("GEOLOCATION_URL in .env is not an http(s) URL; ignored"));
        }
    }
    if (c.url.isEmpty())
        c.urlOrigin = QStringLiteral("default");

    // A key typed into the settings file by hand: move it to the secret store.
    if (s.contains(QStringLiteral("geo/apiKey"))) {
        const QString clear = s.value(QStringLiteral("geo/apiKey")).toString().trimmed();
        QString err;
        const auto existing = secrets.read(kApiKeySecret, &err);
        bool moved = true;
        if (!clear.isEmpty() && existing && existing->isEmpty())
            moved = secrets.write(kApiKeySecret, clear, &err);
        if (moved) {
            s.remove(QStringLiteral("geo/apiKey"));
            s.sync();
            problem(QStringLiteral("the API key found in clear text in the settings file was moved to %1").arg(secrets.describe()));
        } else {
            problem(QStringLiteral("an API key is in clear text in the settings file and could not be moved: %1").arg(err));
        }
    }
    QString err;
    const auto stored = secrets.read(kApiKeySecret, &err);
    if (!stored)
        problem(QStringLiteral("cannot read the geolocation API key: %1").arg(err));
    if (stored && !stored->isEmpty()) {
        c.apiKey = *stored;
        c.keyOrigin = secrets.describe();
    } else if (!env.value(QStringLiteral("GMAPS_API_KEY")).trimmed().isEmpty()) {
        c.apiKey = env.value(QStringLiteral("GMAPS_API_KEY")).trimmed();
        c.keyOrigin = QStringLiteral(".env");
    }
    return c;
}

bool saveGeoConfig(AppSettings &settings, SecretStore &secrets, const GeoConfig &c, const std::optional<QString> &newKey,
                   QString *error) {
    QSettings &s = settings.raw();
    s.setValue(QStringLiteral("geo/enabled"), c.enabled);
    s.setValue(QStringLiteral("geo/replyToDevices"), c.replyToDevices);
    s.setValue(QStringLiteral("geo/providers"), c.providers.join(QLatin1Char(',')));
    if (c.urlOrigin == QLatin1String("settings") && !c.url.isEmpty())
        s.setValue(QStringLiteral("geo/url"), c.url.toString());
    else
        s.remove(QStringLiteral("geo/url"));
    for (const IntSetting &i : kInts)
        s.setValue(QLatin1String(i.key), (c.*(i.field)) / i.scale);
    s.remove(QStringLiteral("geo/apiKey"));
    s.sync();
    if (s.status() != QSettings::NoError) {
        if (error)
            *error = QStringLiteral("cannot write the settings file %1").arg(s.fileName());
        return false;
    }
    if (newKey && !secrets.write(kApiKeySecret, newKey->trimmed(), error))
        return false;
    return true;
}

} // namespace td::geo
