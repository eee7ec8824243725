// GeoResolver: the queue between LBS/Wi-Fi records and the providers. Meant to live on a
// thread of its own (GeoService moves it there); every public function must be called on
// that thread (QMetaObject::invokeMethod from elsewhere). Nothing here ever blocks the GUI.
//
//   submit() --> geo_pending (durable) --> queue --> cache? --> providers in order --> resolved()
//                                                                  |  failure
//                                   retry timer <-- backoff / next day / parked --> failed()
//
// - cache: identical input sets (GeoQuery::cacheKey) within cacheTtlSec are answered without
//   asking a provider (also "not found" answers, so a stuck device costs nothing);
// - daily budget: network requests per local day, persisted (geo_budget); when used up the
//   network providers are skipped and the record retried the next day;
// - rate limit: at least minIntervalMs between two network requests, one request at a time;
// - retry: temporary failures (timeout, 5xx, 429, network, malformed answers, quota) back off
//   exponentially (retryBaseMs * 2^n, capped) up to maxAttempts; "not found" and
//   configuration errors (bad key, nothing configured) wait for the user: resolvePending(),
//   a configuration change, or new offline data release them;
// - pending records survive a restart (open() picks up what is due).
#pragma once

#include "geo/geoconfig.h"
#include "geo/geostore.h"
#include "geo/geotypes.h"
#include "geo/provider.h"
#include "server/trackerserver.h"

#include <QElapsedTimer>
#include <QHash>
#include <QObject>
#include <QSet>
#include <QTimer>
#include <memory>
#include <optional>
#include <vector>

class QNetworkAccessManager;

namespace td::geo {

class OfflineCellProvider;

class GeoResolver : public QObject {
    Q_OBJECT
public:
    explicit GeoResolver(QObject *parent = nullptr);
    ~GeoResolver() override;

    // Opens the database (its own connection) and starts with what is pending.
    bool open(const QString &dbPath, const GeoConfig &config, QString *error);
    // Aborts what is in flight (it stays pending), closes the database.
    void shutdown();
    bool isOpen() const { return m_store != nullptr; }

    void setConfig(const GeoConfig &config);
    const GeoConfig &config() const { return m_config; }
    // Stores the record as pending and queues it.
    void submit(const GeoRequest &request);
    // Every pending record (backing off or parked) is tried again now.
    void resolvePending();
    // New offline data: refresh what the offline provider knows, retry "not found" records.
    void offlineDataChanged();
    GeoStats stats() const { return m_stats; }
    // Pending records as stored (the settings page lists them).
    QList<GeoRequest> pendingRecords(int limit = 1000);

signals:
    void resolved(const td::geo::GeoRequest &request, const td::geo::GeoResult &result);
    // request.attempts / nextAttempt / parked tell what happens next.
    void failed(const td::geo::GeoRequest &request, const td::geo::GeoResult &result);
    void statsChanged(const td::geo::GeoStats &stats);
    void logMessage(td::server::LogLevel level, const QString &text);

private:
    struct Current {
        GeoRequest request;
        int providerIndex = 0;
        QList<GeoResult> errors;
        bool waiting = false;    // a provider is working on it (no second call)
    };
    struct CacheEntry {
        GeoResult result;
        qint64 atMs = 0;
    };

    void rebuildProviders();
    void step();                 // pump or continue the current chain
    void pump();
    void continueChain();
    void onProviderDone(quint64 token, GeoResult result);
    void finishSuccess(const GeoRequest &request, GeoResult result);
    void finishFailure(GeoRequest request, const QList<GeoResult> &errors);
    void schedule(int ms);
    void loadDue();
    void armRetryTimer();
    void rollDay();
    void refreshStats();
    void countOfflineData();     // full counts: on open and after an import only
    void log(server::LogLevel level, const QString &text);
    QString describe(const GeoRequest &r) const;

    GeoConfig m_config;
    std::unique_ptr<GeoStore> m_store;
    QNetworkAccessManager *m_nam = nullptr;
    std::vector<std::unique_ptr<GeoProvider>> m_providers;
    OfflineCellProvider *m_offline = nullptr;
    QList<GeoRequest> m_queue;
    QSet<qint64> m_active;                 // pending ids queued or in flight
    std::optional<Current> m_current;
    quint64 m_token = 0;                   // stale provider callbacks are ignored
    QHash<QString, CacheEntry> m_cache;
    QTimer m_stepTimer;
    QTimer m_retryTimer;
    QElapsedTimer m_clock;
    qint64 m_nextNetworkMs = 0;            // m_clock time of the next allowed request
    bool m_dueMayExist = false;
    QString m_day;
    GeoStats m_stats;
};

} // namespace td::geo
