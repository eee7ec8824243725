// Geolocation settings: which providers in which order, the Google-shape endpoint and its
// key, the daily budget, rate limit, timeouts, cache and retry policy.
//
// Settings keys (validated on read; a bad value falls back to its default and is reported):
//   geo/enabled (true)           geo/providers ("web,offline": tried in this order)
//   geo/url (Google's endpoint)  geo/dailyBudget (1000 requests per local day)
//   geo/minIntervalMs (1000)     geo/timeoutMs (10000)      geo/cacheTtlSec (600)
//   geo/retryBaseSec (60)        geo/maxAttempts (10)       geo/replyToDevices (true)
// The API key is never a setting: it lives in the SecretStore. A clear-text geo/apiKey found
// in the settings file is moved there and removed.
// For parity with the cat-tracker scripts, <data folder>/.env is honoured:
//   GMAPS_API_KEY=...      the key, when none is stored
//   GEOLOCATION_URL=...    the endpoint, when geo/url is not set
#pragma once

#include <QHash>
#include <QString>
#include <QStringList>
#include <QUrl>
#include <optional>

namespace td {
class AppSettings;
}

namespace td::geo {

class SecretStore;

inline const QString kApiKeySecret = QStringLiteral("geolocation-api-key");

struct GeoConfig {
    bool enabled = true;
    QStringList providers = {QStringLiteral("web"), QStringLiteral("offline")};
    QUrl url;                         // empty: Google's endpoint
    QString apiKey;                   // secret: never logged, never written to the settings
    QString urlOrigin;                // "settings", ".env", "default"
    QString keyOrigin;                // where the key came from (secret store text, ".env"), empty: none
    int dailyBudget = 1000;           // network requests per local day
    int minIntervalMs = 1000;         // between two network requests
    int timeoutMs = 10000;
    int cacheTtlSec = 600;            // identical inputs within this time: answered from the cache
    int retryBaseMs = 60000;          // first retry delay, doubled per failure
    int retryMaxMs = 6 * 3600 * 1000; // backoff cap
    int maxAttempts = 10;             // automatic attempts before a record waits for the user
    int maxPending = 50000;           // oldest records beyond this are dropped (with a warning)
    bool replyToDevices = true;       // Topin 0x69: send the resolved position back
    int replyMaxAgeSec = 600;         // ... only while the record is this fresh

    QUrl effectiveUrl() const;
    // Provider-related fields equal (a change re-opens records parked for configuration).
    bool sameProviders(const GeoConfig &o) const {
        return enabled == o.enabled && providers == o.providers && effectiveUrl() == o.effectiveUrl() && apiKey == o.apiKey;
    }
};

QStringList knownGeoProviders();                 // "web", "offline"
QString geoProviderDisplayName(const QString &id);

// Reads KEY=VALUE lines (# comments, optional "export ", single/double quotes). Values are
// never put into *problems (they may be secrets): only line numbers.
QHash<QString, QString> readDotEnv(const QString &path, QStringList *problems = nullptr);

GeoConfig loadGeoConfig(AppSettings &settings, const QString &dataDir, SecretStore &secrets, QStringList *problems = nullptr);
// Writes the settings; newKey set: stores it in the secret store (empty: removes it).
bool saveGeoConfig(AppSettings &settings, SecretStore &secrets, const GeoConfig &config,
                   const std::optional<QString> &newKey, QString *error = nullptr);

} // namespace td::geo
