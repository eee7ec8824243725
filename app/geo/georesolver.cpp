#include "geo/georesolver.h"

#include "geo/googleshapeprovider.h"
#include "geo/offlinecellprovider.h"

#include <QNetworkAccessManager>
#include <QTimeZone>
#include <algorithm>

namespace td::geo {

namespace {

constexpr int kCacheMax = 20000;
constexpr int kDueBatch = 200;

QString today() { return QDate::currentDate().toString(Qt::ISODate); }

// Retry order of importance: a temporary failure (retry later) beats a configuration
// problem (wait for the user) beats "not found" (nothing to retry).
int rank(GeoError e) {
    if (isRetryable(e))
        return 0;
    if (e == GeoError::KeyInvalid || e == GeoError::BadRequest || e == GeoError::NotConfigured)
        return 1;
    return 2;
}

} // namespace

GeoResolver::GeoResolver(QObject *parent) : QObject(parent), m_stepTimer(this), m_retryTimer(this) {
    qRegisterMetaType<td::geo::GeoRequest>();
    qRegisterMetaType<td::geo::GeoResult>();
    qRegisterMetaType<td::geo::GeoStats>();
    qRegisterMetaType<td::server::LogLevel>();
    m_stepTimer.setSingleShot(true);
    m_retryTimer.setSingleShot(true);
    m_stepTimer.setTimerType(Qt::PreciseTimer);
    m_retryTimer.setTimerType(Qt::PreciseTimer);
    connect(&m_stepTimer, &QTimer::timeout, this, &GeoResolver::step);
    connect(&m_retryTimer, &QTimer::timeout, this, [this] {
        m_dueMayExist = true;
        step();
        armRetryTimer();
    });
    m_clock.start();
}

GeoResolver::~GeoResolver() { shutdown(); }

bool GeoResolver::open(const QString &dbPath, const GeoConfig &config, QString *error) {
    shutdown();
    auto store = std::make_unique<GeoStore>();
    if (!store->open(dbPath, error))
        return false;
    m_store = std::move(store);
    m_nam = new QNetworkAccessManager(this);
    m_config = config;
    m_day.clear();
    rollDay();
    rebuildProviders();
    const int trimmed = m_store->trimPending(m_config.maxPending);
    if (trimmed > 0)
        log(server::LogLevel::Warning, QStringLiteral("geolocation: %1 oldest pending records dropped (more than %2 waiting)")
                                           .arg(trimmed).arg(m_config.maxPending));
    m_dueMayExist = true;
    countOfflineData();
    refreshStats();
    if (m_stats.pending > 0)
        log(server::LogLevel::Info, QStringLiteral("geolocation: %1 record(s) pending from before, %2 waiting for the user")
                                        .arg(m_stats.pending).arg(m_stats.parked));
    schedule(0);
    armRetryTimer();
    return true;
}

void GeoResolver::shutdown() {
    m_stepTimer.stop();
    m_retryTimer.stop();
    ++m_token;
    m_providers.clear();   // aborts requests in flight: their records stay pending
    m_offline = nullptr;
    m_current.reset();
    m_queue.clear();
    m_active.clear();
    delete m_nam;
    m_nam = nullptr;
    m_store.reset();
}

void GeoResolver::log(server::LogLevel level, const QString &text) {
    // The texts come from the providers, which redact the key; this is the last guard.
    QString t = text;
    if (!m_config.apiKey.isEmpty())
        t.replace(m_config.apiKey, QStringLiteral("***"));
    // Shown through logMessage (headless output, the GUI); the category's debug output
    // (QT_LOGGING_RULES="trackerdesk.geo.debug=true") adds the request details.
    qCDebug(lcGeo).noquote() << t;
    emit logMessage(level, t);
}

QString GeoResolver::describe(const GeoRequest &r) const {
    return QStringLiteral("device %1 record of %2 (%3 cell(s), %4 Wi-Fi)")
        .arg(r.deviceId)
        .arg(r.fixTime.toUTC().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")))
        .arg(r.query.cells.size())
        .arg(r.query.wifi.size());
}

void GeoResolver::rebuildProviders() {
    if (m_current) {
        // Its provider is about to go: put the record back, no attempt counted.
        m_queue.prepend(m_current->request);
        m_current.reset();
    }
    ++m_token;
    m_providers.clear();
    m_offline = nullptr;
    if (!m_store)
        return;
    for (const QString &id : m_config.providers) {
        if (id == QLatin1String("web")) {
            WebProviderConfig w;
            w.url = m_config.effectiveUrl();
            w.apiKey = m_config.apiKey;
            w.timeoutMs = m_config.timeoutMs;
            m_providers.push_back(std::make_unique<GoogleShapeProvider>(m_nam, w));
        } else if (id == QLatin1String("offline")) {
            auto p = std::make_unique<OfflineCellProvider>(m_store.get());
            m_offline = p.get();
            m_providers.push_back(std::move(p));
        }
    }
}

void GeoResolver::setConfig(const GeoConfig &config) {
    const GeoConfig old = m_config;
    m_config = config;
    m_stats.dailyBudget = config.dailyBudget;
    if (!m_store)
        return;
    const bool providersChanged = !old.sameProviders(config) || old.timeoutMs != config.timeoutMs;
    if (providersChanged) {
        rebuildProviders();
        m_cache.clear();
        // What waited for a configuration may work now.
        const int n = m_store->releasePending(QDateTime::currentDateTimeUtc(),
                                              {GeoError::NotConfigured, GeoError::KeyInvalid, GeoError::BadRequest});
        if (n > 0)
            log(server::LogLevel::Info, QStringLiteral("geolocation: settings changed, %1 waiting record(s) queued again").arg(n));
    }
    if (config.dailyBudget > old.dailyBudget)
        m_store->releasePending(QDateTime::currentDateTimeUtc(), {GeoError::BudgetExhausted});
    if (old.cacheTtlSec != config.cacheTtlSec)
        m_cache.clear();
    m_dueMayExist = true;
    refreshStats();
    schedule(0);
    armRetryTimer();
}

void GeoResolver::submit(const GeoRequest &request) {
    if (!m_store) {
        log(server::LogLevel::Error, QStringLiteral("geolocation: not running; %1 not queued").arg(describe(request)));
        return;
    }
    if (request.query.isEmpty())
        return;
    GeoRequest r = request;
    const QDateTime now = QDateTime::currentDateTimeUtc();
    r.created = now;
    r.nextAttempt = now;
    r.attempts = 0;
    r.parked = false;
    r.pendingId = m_store->addPending(r);
    if (r.pendingId == 0)
        log(server::LogLevel::Error, QStringLiteral("geolocation: cannot keep %1 pending (%2); trying it once")
                                         .arg(describe(r), m_store->lastError()));
    if (r.pendingId != 0 && m_active.contains(r.pendingId))
        return;   // the same record is already on its way
    if (r.pendingId != 0) {
        m_active.insert(r.pendingId);
        if (m_stats.pending >= m_config.maxPending) {
            const int n = m_store->trimPending(m_config.maxPending);
            if (n > 0)
                log(server::LogLevel::Warning, QStringLiteral("geolocation: %1 oldest pending record(s) dropped (more than %2 waiting)")
                                                   .arg(n).arg(m_config.maxPending));
        }
    }
    m_queue.append(r);
    refreshStats();
    schedule(0);
}

void GeoResolver::resolvePending() {
    if (!m_store)
        return;
    const int n = m_store->releasePending(QDateTime::currentDateTimeUtc());
    for (auto it = m_cache.begin(); it != m_cache.end();) {
        if (!it->result.ok())
            it = m_cache.erase(it);
        else
            ++it;
    }
    log(server::LogLevel::Info, QStringLiteral("geolocation: %1 pending record(s) queued again").arg(qMax(0, n)));
    m_dueMayExist = true;
    refreshStats();
    schedule(0);
}

void GeoResolver::offlineDataChanged() {
    if (!m_store)
        return;
    if (m_offline)
        m_offline->refreshCounts();
    countOfflineData();
    for (auto it = m_cache.begin(); it != m_cache.end();) {
        if (!it->result.ok())
            it = m_cache.erase(it);
        else
            ++it;
    }
    const int n = m_store->releasePending(QDateTime::currentDateTimeUtc(), {GeoError::NotFound, GeoError::NotConfigured});
    if (n > 0)
        log(server::LogLevel::Info, QStringLiteral("geolocation: new offline data, %1 record(s) queued again").arg(n));
    m_dueMayExist = true;
    refreshStats();
    schedule(0);
}

QList<GeoRequest> GeoResolver::pendingRecords(int limit) {
    if (!m_store)
        return {};
    return m_store->allPending(limit).value_or(QList<GeoRequest>());
}

void GeoResolver::schedule(int ms) {
    if (!m_stepTimer.isActive() || m_stepTimer.remainingTime() > ms)
        m_stepTimer.start(qMax(0, ms));
}

void GeoResolver::step() {
    if (!m_current)
        pump();
    else if (!m_current->waiting)
        continueChain();   // woken by the rate limit
}

void GeoResolver::loadDue() {
    m_dueMayExist = false;
    if (!m_store)
        return;
    const auto due = m_store->duePending(QDateTime::currentDateTimeUtc(), kDueBatch, m_active);
    if (!due) {
        log(server::LogLevel::Error, QStringLiteral("geolocation: %1").arg(m_store->lastError()));
        return;
    }
    for (const GeoRequest &r : *due) {
        m_active.insert(r.pendingId);
        m_queue.append(r);
    }
    if (due->size() >= kDueBatch)
        m_dueMayExist = true;
}

void GeoResolver::armRetryTimer() {
    if (!m_store)
        return;
    const QDateTime now = QDateTime::currentDateTimeUtc();
    // Records that became due since the last look (a timer may fire a little early, a
    // re-arm may replace the timer of an earlier record): picked up by the next pump.
    const auto earliest = m_store->nextPendingAttempt(QDateTime::fromMSecsSinceEpoch(0, QTimeZone::UTC));
    if (earliest && earliest->isValid() && *earliest <= now) {
        m_dueMayExist = true;
        schedule(0);
    }
    const auto next = m_store->nextPendingAttempt(now);
    if (!next || !next->isValid()) {
        m_retryTimer.stop();
        return;
    }
    const qint64 ms = now.msecsTo(*next);
    m_retryTimer.start(int(std::clamp<qint64>(ms + 5, 5, 3600 * 1000)));   // re-armed hourly at most
}

void GeoResolver::rollDay() {
    const QString d = today();
    if (d == m_day || !m_store)
        return;
    m_day = d;
    const int n = m_store->requestsOn(d);
    m_stats.requestsToday = qMax(0, n);
}

void GeoResolver::refreshStats() {
    if (!m_store)
        return;
    rollDay();
    m_stats.dailyBudget = m_config.dailyBudget;
    m_stats.pending = qMax<qint64>(0, m_store->pendingCount());
    m_stats.parked = qMax<qint64>(0, m_store->pendingCount(true));
    emit statsChanged(m_stats);
}

void GeoResolver::countOfflineData() {
    if (!m_store)
        return;
    m_stats.offlineCells = qMax<qint64>(0, m_store->cellCount());
    m_stats.offlineWifi = qMax<qint64>(0, m_store->wifiCount());
}

void GeoResolver::pump() {
    if (m_current || !m_store || !m_config.enabled)
        return;
    if (m_queue.isEmpty() && m_dueMayExist)
        loadDue();
    if (m_queue.isEmpty())
        return;
    GeoRequest r = m_queue.takeFirst();
    const QString key = r.query.cacheKey();
    const auto hit = m_cache.constFind(key);
    if (hit != m_cache.cend() && m_clock.elapsed() - hit->atMs <= qint64(m_config.cacheTtlSec) * 1000) {
        ++m_stats.cacheHits;
        GeoResult res = hit->result;
        res.fromCache = true;
        if (res.ok())
            finishSuccess(r, res);
        else
            finishFailure(r, {res});
        return;
    }
    ++m_stats.cacheMisses;
    m_current = Current{r, 0, {}};
    continueChain();
}

void GeoResolver::continueChain() {
    if (!m_current)
        return;
    Current &c = *m_current;
    while (c.providerIndex < int(m_providers.size())) {
        GeoProvider *p = m_providers[size_t(c.providerIndex)].get();
        QString why;
        if (!p->canResolve(c.request.query, &why)) {
            GeoResult e = GeoResult::failure(GeoError::NotConfigured, why);
            e.provider = p->id();
            c.errors << e;
            ++c.providerIndex;
            continue;
        }
        if (p->usesNetwork()) {
            rollDay();
            if (m_stats.requestsToday >= m_config.dailyBudget) {
                GeoResult e = GeoResult::failure(GeoError::BudgetExhausted,
                                                 QStringLiteral("the daily budget of %1 request(s) is used up").arg(m_config.dailyBudget));
                e.provider = p->id();
                c.errors << e;
                ++c.providerIndex;
                continue;
            }
            const qint64 now = m_clock.elapsed();
            if (now < m_nextNetworkMs) {
                schedule(int(m_nextNetworkMs - now));   // rate limit: come back then
                return;
            }
            m_nextNetworkMs = now + m_config.minIntervalMs;
            if (!m_store->addRequest(m_day))
                log(server::LogLevel::Warning, QStringLiteral("geolocation: %1").arg(m_store->lastError()));
            ++m_stats.requestsToday;
            ++m_stats.requestsTotal;
        }
        const quint64 token = ++m_token;
        c.waiting = true;
        // Results are handled on a later turn of the event loop, also when the provider
        // answers at once (the offline one), so the chain never recurses.
        p->resolve(c.request.query, [this, token](const GeoResult &res) {
            QMetaObject::invokeMethod(this, [this, token, res] { onProviderDone(token, res); }, Qt::QueuedConnection);
        });
        return;
    }
    const GeoRequest r = c.request;
    const QList<GeoResult> errors = c.errors;
    m_current.reset();
    finishFailure(r, errors);
}

void GeoResolver::onProviderDone(quint64 token, GeoResult result) {
    if (!m_current || token != m_token)
        return;
    Current &c = *m_current;
    c.waiting = false;
    const GeoProvider *p = c.providerIndex < int(m_providers.size()) ? m_providers[size_t(c.providerIndex)].get() : nullptr;
    if (p && result.provider.isEmpty())
        result.provider = p->id();
    if (result.ok()) {
        const GeoRequest r = c.request;
        m_current.reset();
        finishSuccess(r, result);
        return;
    }
    c.errors << result;
    ++c.providerIndex;
    continueChain();
}

void GeoResolver::finishSuccess(const GeoRequest &request, GeoResult result) {
    if (!result.fromCache) {
        if (m_cache.size() >= kCacheMax)
            m_cache.clear();
        m_cache.insert(request.query.cacheKey(), CacheEntry{result, m_clock.elapsed()});
        if (result.provider == QLatin1String("offline"))
            ++m_stats.offlineHits;
    }
    ++m_stats.resolved;
    if (request.pendingId != 0) {
        if (!m_store->removePending(request.pendingId))
            log(server::LogLevel::Warning, QStringLiteral("geolocation: %1").arg(m_store->lastError()));
        m_active.remove(request.pendingId);
    }
    qCDebug(lcGeo).noquote() << describe(request) << "->" << result.latitude << result.longitude << "+-" << result.accuracy
                             << "m by" << result.provider << (result.fromCache ? "(cache)" : "");
    emit resolved(request, result);
    refreshStats();
    schedule(0);
}

void GeoResolver::finishFailure(GeoRequest r, const QList<GeoResult> &errors) {
    GeoResult primary = errors.isEmpty()
                            ? GeoResult::failure(GeoError::NotConfigured, QStringLiteral("no geolocation provider is enabled"))
                            : errors.first();
    for (const GeoResult &e : errors)
        if (rank(e.error) < rank(primary.error))
            primary = e;
    QStringList parts;
    for (const GeoResult &e : errors)
        parts << (e.provider.isEmpty() ? e.message : QStringLiteral("%1: %2").arg(e.provider, e.message));
    const QString message = parts.isEmpty() ? primary.message : parts.join(QStringLiteral("; "));
    const QDateTime now = QDateTime::currentDateTimeUtc();
    ++r.attempts;
    r.lastError = primary.error;
    r.lastMessage = message;
    QString next;
    if (isRetryable(primary.error) && r.attempts < m_config.maxAttempts) {
        qint64 delay = m_config.retryBaseMs;
        for (int i = 1; i < r.attempts && delay < m_config.retryMaxMs; ++i)
            delay *= 2;
        delay = std::min<qint64>(delay, m_config.retryMaxMs);
        QDateTime at = now.addMSecs(delay);
        if (primary.error == GeoError::QuotaExceeded || primary.error == GeoError::BudgetExhausted) {
            const QDateTime tomorrow = QDateTime(QDate::currentDate().addDays(1), QTime(0, 1)).toUTC();
            at = std::max(at, tomorrow);
        }
        r.nextAttempt = at;
        r.parked = false;
        next = QStringLiteral("retry %1 at %2").arg(r.attempts + 1).arg(at.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")));
    } else {
        r.parked = true;
        r.nextAttempt = now;
        if (primary.error == GeoError::NotFound) {
            next = QStringLiteral("kept; \"Resolve pending now\" tries again");
            if (!primary.fromCache)
                m_cache.insert(r.query.cacheKey(), CacheEntry{primary, m_clock.elapsed()});
        } else if (isRetryable(primary.error)) {
            next = QStringLiteral("gave up after %1 attempts; \"Resolve pending now\" tries again").arg(r.attempts);
        } else {
            next = QStringLiteral("waiting for the settings to change (or \"Resolve pending now\")");
        }
    }
    if (r.pendingId != 0) {
        if (!m_store->updatePending(r))
            log(server::LogLevel::Warning, QStringLiteral("geolocation: %1").arg(m_store->lastError()));
        m_active.remove(r.pendingId);
    }
    ++m_stats.failures;
    m_stats.lastErrorTime = now;
    m_stats.lastError = QStringLiteral("%1: %2").arg(geoErrorName(primary.error), message);
    // Repeated "not found" from the cache is not worth a warning each time.
    log(primary.fromCache ? server::LogLevel::Info : server::LogLevel::Warning,
        QStringLiteral("geolocation: no position for %1: %2 (%3)").arg(describe(r), message, next));
    GeoResult out = primary;
    out.message = message;
    emit failed(r, out);
    refreshStats();
    armRetryTimer();
    schedule(0);
}

} // namespace td::geo
