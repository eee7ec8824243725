#include "dialogs/geosettingspage.h"

#include "geo/cellimport.h"
#include "geo/geoservice.h"
#include "geo/googleshapeprovider.h"
#include "geo/secretstore.h"

#include <QCheckBox>
#include <QDir>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QLocale>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

namespace td::ui {

namespace {

QSpinBox *spin(QWidget *parent, int min, int max, const QString &suffix, const QString &special = {}) {
    auto *b = new QSpinBox(parent);
    b->setRange(min, max);
    b->setSuffix(suffix);
    if (!special.isEmpty())
        b->setSpecialValueText(special);
    b->setAccelerated(true);
    return b;
}

} // namespace

GeoSettingsPage::GeoSettingsPage(AppSettings &settings, QWidget *parent) : QWidget(parent), m_settings(settings) {
    setObjectName(QStringLiteral("geoSettingsPage"));
    m_enabled = new QCheckBox(tr("Find positions for cell-tower and Wi-Fi records"), this);
    m_enabled->setToolTip(tr("Trackers indoors send no GPS fix, only nearby cells and Wi-Fi access points."));

    m_providers = new QListWidget(this);
    m_providers->setObjectName(QStringLiteral("geoProviders"));
    m_providers->setDragDropMode(QAbstractItemView::InternalMove);
    m_providers->setMaximumHeight(64);
    m_providers->setToolTip(tr("Tried from top to bottom; unticked ones are not used."));
    auto *up = new QPushButton(tr("Up"), this);
    auto *down = new QPushButton(tr("Down"), this);
    connect(up, &QPushButton::clicked, this, [this] { moveProvider(-1); });
    connect(down, &QPushButton::clicked, this, [this] { moveProvider(+1); });
    auto *providerButtons = new QVBoxLayout;
    providerButtons->addWidget(up);
    providerButtons->addWidget(down);
    providerButtons->addStretch();
    auto *providerRow = new QHBoxLayout;
    providerRow->addWidget(m_providers, 1);
    providerRow->addLayout(providerButtons);

    m_url = new QLineEdit(this);
    m_url->setObjectName(QStringLiteral("geoUrl"));
    m_url->setPlaceholderText(geo::GoogleShapeProvider::googleUrl().toString());
    m_url->setToolTip(tr("Google's endpoint or any service answering the same request shape."));
    m_urlOrigin = new QLabel(this);
    m_urlOrigin->setTextFormat(Qt::PlainText);
    m_key = new QLineEdit(this);
    m_key->setObjectName(QStringLiteral("geoKey"));
    m_key->setEchoMode(QLineEdit::Password);
    m_key->setClearButtonEnabled(true);
    m_keyOrigin = new QLabel(this);
    m_keyOrigin->setWordWrap(true);
    m_keyOrigin->setTextFormat(Qt::PlainText);
    m_clearKey = new QCheckBox(tr("Remove the stored key"), this);
    connect(m_key, &QLineEdit::textEdited, this, [this] { m_clearKey->setChecked(false); });

    m_budget = spin(this, 0, 10000000, tr(" requests/day"), tr("no network requests"));
    m_budget->setObjectName(QStringLiteral("geoBudget"));
    m_interval = spin(this, 0, 3600000, tr(" ms"), tr("no pause"));
    m_timeout = spin(this, 1, 120, tr(" s"));
    m_cacheTtl = spin(this, 0, 30 * 86400, tr(" s"), tr("no cache"));
    m_retryBase = spin(this, 1, 86400, tr(" s"));
    m_attempts = spin(this, 1, 100, QString());
    m_reply = new QCheckBox(tr("Send the position back to Topin devices (0x69 reply)"), this);

    m_import = new QPushButton(tr("Import cells or Wi-Fi CSV..."), this);
    m_import->setObjectName(QStringLiteral("geoImport"));
    m_cancelImport = new QPushButton(tr("Cancel"), this);
    m_cancelImport->setEnabled(false);
    m_progress = new QProgressBar(this);
    m_progress->setRange(0, 1000);
    m_progress->setValue(0);
    m_progress->setTextVisible(true);
    m_importStatus = new QLabel(this);
    m_importStatus->setObjectName(QStringLiteral("geoImportStatus"));
    m_importStatus->setWordWrap(true);
    m_importStatus->setTextFormat(Qt::PlainText);
    m_importStatus->setTextInteractionFlags(Qt::TextSelectableByMouse);
    connect(m_import, &QPushButton::clicked, this, [this] {
        const QString file = QFileDialog::getOpenFileName(
            this, tr("Import an offline geolocation database"), QDir::homePath(),
            tr("CSV files (*.csv *.csv.gz *.gz);;All files (*)"));
        if (file.isEmpty())
            return;
        QString err;
        if (!startImport(file, &err))
            m_importStatus->setText(err);
    });
    connect(m_cancelImport, &QPushButton::clicked, this, [this] {
        if (m_service)
            m_service->cancelImport();
    });

    m_counters = new QLabel(this);
    m_counters->setObjectName(QStringLiteral("geoCounters"));
    m_counters->setWordWrap(true);
    m_counters->setTextFormat(Qt::PlainText);
    m_counters->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_resolve = new QPushButton(tr("Resolve pending now"), this);
    m_resolve->setObjectName(QStringLiteral("geoResolve"));
    m_resolve->setToolTip(tr("Ask again for every record that is still without a position (failed, not found, backing off)."));
    connect(m_resolve, &QPushButton::clicked, this, [this] {
        if (m_service)
            m_service->resolvePending();
    });

    auto *providers = new QGroupBox(tr("Providers"), this);
    auto *pf = new QFormLayout(providers);
    pf->addRow(m_enabled);
    pf->addRow(tr("In order"), providerRow);
    pf->addRow(tr("Web service URL"), m_url);
    pf->addRow(QString(), m_urlOrigin);
    pf->addRow(tr("API key"), m_key);
    pf->addRow(QString(), m_keyOrigin);
    pf->addRow(QString(), m_clearKey);

    auto *limits = new QGroupBox(tr("Budget and limits"), this);
    auto *lf = new QFormLayout(limits);
    lf->addRow(tr("Daily budget"), m_budget);
    lf->addRow(tr("Pause between requests"), m_interval);
    lf->addRow(tr("Timeout"), m_timeout);
    lf->addRow(tr("Same inputs answered from the cache for"), m_cacheTtl);
    lf->addRow(tr("First retry after (doubles each time)"), m_retryBase);
    lf->addRow(tr("Automatic attempts"), m_attempts);
    lf->addRow(m_reply);

    auto *offline = new QGroupBox(tr("Offline database (OpenCelliD cells, Wi-Fi)"), this);
    auto *of = new QVBoxLayout(offline);
    auto *importRow = new QHBoxLayout;
    importRow->addWidget(m_import);
    importRow->addWidget(m_progress, 1);
    importRow->addWidget(m_cancelImport);
    of->addLayout(importRow);
    of->addWidget(m_importStatus);

    auto *status = new QGroupBox(tr("Status"), this);
    auto *sf = new QVBoxLayout(status);
    sf->addWidget(m_counters);
    auto *resolveRow = new QHBoxLayout;
    resolveRow->addStretch();
    resolveRow->addWidget(m_resolve);
    sf->addLayout(resolveRow);

    auto *lay = new QVBoxLayout(this);
    lay->addWidget(providers);
    lay->addWidget(limits);
    lay->addWidget(offline);
    lay->addWidget(status);
    lay->addStretch();
    load();
    setService(nullptr);
}

QString GeoSettingsPage::dataDir() const { return m_service ? m_service->dataDir() : m_settings.dataDir(); }

void GeoSettingsPage::load() {
    geo::SecretStore secrets(dataDir());
    QStringList problems;
    m_loaded = geo::loadGeoConfig(m_settings, dataDir(), secrets, &problems);
    const geo::GeoConfig &c = m_loaded;
    m_enabled->setChecked(c.enabled);
    m_providers->clear();
    QStringList order = c.providers;
    for (const QString &id : geo::knownGeoProviders())
        if (!order.contains(id))
            order << id;
    for (const QString &id : order) {
        auto *item = new QListWidgetItem(geo::geoProviderDisplayName(id), m_providers);
        item->setData(Qt::UserRole, id);
        item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
        item->setCheckState(c.providers.contains(id) ? Qt::Checked : Qt::Unchecked);
    }
    m_url->setText(c.urlOrigin == QLatin1String("settings") ? c.url.toString() : QString());
    m_urlOrigin->setText(c.urlOrigin == QLatin1String(".env") ? tr("Now: %1 (GEOLOCATION_URL from .env)").arg(c.url.toString())
                         : c.urlOrigin == QLatin1String("default") ? tr("Empty: Google's endpoint")
                                                                   : QString());
    m_urlOrigin->setVisible(!m_urlOrigin->text().isEmpty());
    m_key->clear();
    m_clearKey->setChecked(false);
    m_keyCleared = false;
    if (c.apiKey.isEmpty()) {
        m_key->setPlaceholderText(tr("none (not needed by some community services)"));
        m_keyOrigin->setText(tr("A key you type here is kept in %1, never in the settings file.").arg(secrets.describe()));
        m_clearKey->setVisible(false);
    } else {
        m_key->setPlaceholderText(QStringLiteral("\u2022\u2022\u2022\u2022\u2022\u2022\u2022\u2022 ") + tr("(set; type to replace)"));
        m_keyOrigin->setText(c.keyOrigin == QLatin1String(".env")
                                 ? tr("From GMAPS_API_KEY in %1. A key typed here is kept in %2 and wins.")
                                       .arg(QDir::toNativeSeparators(QDir(dataDir()).filePath(QStringLiteral(".env"))), secrets.describe())
                                 : tr("Kept in %1, never in the settings file.").arg(c.keyOrigin));
        m_clearKey->setVisible(c.keyOrigin != QLatin1String(".env"));
    }
    m_budget->setValue(c.dailyBudget);
    m_interval->setValue(c.minIntervalMs);
    m_timeout->setValue(qMax(1, c.timeoutMs / 1000));
    m_cacheTtl->setValue(c.cacheTtlSec);
    m_retryBase->setValue(qMax(1, c.retryBaseMs / 1000));
    m_attempts->setValue(c.maxAttempts);
    m_reply->setChecked(c.replyToDevices);
    if (!problems.isEmpty())
        m_counters->setText(problems.join(QLatin1Char('\n')));
}

void GeoSettingsPage::setService(geo::GeoService *service) {
    if (m_service)
        disconnect(m_service, nullptr, this, nullptr);
    m_service = service;
    const bool running = service && service->isRunning();
    m_import->setEnabled(running && !service->importRunning());
    m_cancelImport->setEnabled(running && service->importRunning());
    m_resolve->setEnabled(running);
    if (!running) {
        m_counters->setText(tr("Geolocation is not running (the tracker server is stopped)."));
        m_importStatus->setText(tr("Importing needs the running server's database."));
        return;
    }
    load();   // the service's data folder may differ from the settings' (--data-dir)
    connect(service, &geo::GeoService::statsChanged, this, &GeoSettingsPage::showStats);
    connect(service, &geo::GeoService::importProgress, this, [this](qint64 done, qint64 total, qint64 rows) {
        m_progress->setValue(total > 0 ? int(done * 1000 / total) : 0);
        m_progress->setFormat(tr("%1 lines").arg(QLocale().toString(rows)));
    });
    connect(service, &geo::GeoService::importFinished, this, &GeoSettingsPage::onImportFinished);
    showStats(service->stats());
    const geo::GeoStats s = service->stats();
    m_importStatus->setText(tr("In the database: %1 cells, %2 Wi-Fi access points.%3")
                                .arg(QLocale().toString(s.offlineCells), QLocale().toString(s.offlineWifi),
                                     geo::importSupportsGzip() ? tr(" .csv.gz files are read directly.") : QString()));
}

bool GeoSettingsPage::startImport(const QString &path, QString *error) {
    if (!m_service) {
        if (error)
            *error = tr("Geolocation is not running.");
        return false;
    }
    if (!m_service->importFile(path, error))
        return false;
    m_import->setEnabled(false);
    m_cancelImport->setEnabled(true);
    m_progress->setValue(0);
    m_importStatus->setText(tr("Importing %1 ...").arg(QDir::toNativeSeparators(path)));
    return true;
}

void GeoSettingsPage::onImportFinished(const geo::ImportReport &r) {
    m_import->setEnabled(true);
    m_cancelImport->setEnabled(false);
    if (r.ok())
        m_progress->setValue(1000);
    QString text = r.summary();
    if (r.badSamples.size() > 1)   // the summary names the first
        text += QLatin1Char('\n') + r.badSamples.mid(1, 3).join(QLatin1Char('\n'));
    m_importStatus->setText(text);
}

void GeoSettingsPage::showStats(const geo::GeoStats &s) {
    QString t = tr("Requests today: %1 of %2 - cache hits: %3 - found offline: %4 - resolved: %5 - failed attempts: %6\n"
                   "Pending: %7 record(s), %8 waiting for you - offline database: %9 cells, %10 Wi-Fi")
                    .arg(s.requestsToday).arg(s.dailyBudget).arg(s.cacheHits).arg(s.offlineHits).arg(s.resolved)
                    .arg(s.failures).arg(s.pending).arg(s.parked)
                    .arg(QLocale().toString(s.offlineCells), QLocale().toString(s.offlineWifi));
    if (!s.lastError.isEmpty())
        t += tr("\nLast error (%1): %2").arg(s.lastErrorTime.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")), s.lastError);
    m_counters->setText(t);
    m_resolve->setEnabled(m_service && s.pending > 0);
}

void GeoSettingsPage::moveProvider(int delta) {
    const int row = m_providers->currentRow();
    const int to = row + delta;
    if (row < 0 || to < 0 || to >= m_providers->count())
        return;
    QListWidgetItem *item = m_providers->takeItem(row);
    m_providers->insertItem(to, item);
    m_providers->setCurrentRow(to);
}

QString GeoSettingsPage::validate() const {
    const QString url = m_url->text().trimmed();
    if (!url.isEmpty()) {
        const QUrl u(url, QUrl::StrictMode);
        if (!u.isValid() || u.host().isEmpty() || (u.scheme() != QLatin1String("https") && u.scheme() != QLatin1String("http")))
            return tr("Geolocation URL: '%1' is not an http:// or https:// URL.").arg(url);
    }
    const QString key = m_key->text().trimmed();
    for (QChar c : key)
        if (!c.isPrint() || c.isSpace())
            return tr("Geolocation API key: it has spaces or control characters.");
    return {};
}

QString GeoSettingsPage::save() {
    geo::GeoConfig c = m_loaded;
    c.enabled = m_enabled->isChecked();
    c.providers.clear();
    for (int i = 0; i < m_providers->count(); ++i)
        if (m_providers->item(i)->checkState() == Qt::Checked)
            c.providers << m_providers->item(i)->data(Qt::UserRole).toString();
    const QString url = m_url->text().trimmed();
    c.url = url.isEmpty() ? QUrl() : QUrl(url);
    c.urlOrigin = url.isEmpty() ? QString() : QStringLiteral("settings");
    c.dailyBudget = m_budget->value();
    c.minIntervalMs = m_interval->value();
    c.timeoutMs = m_timeout->value() * 1000;
    c.cacheTtlSec = m_cacheTtl->value();
    c.retryBaseMs = m_retryBase->value() * 1000;
    c.maxAttempts = m_attempts->value();
    c.replyToDevices = m_reply->isChecked();
    std::optional<QString> newKey;
    if (!m_key->text().trimmed().isEmpty())
        newKey = m_key->text().trimmed();
    else if (m_clearKey->isChecked())
        newKey = QString();
    geo::SecretStore secrets(dataDir());
    QString err;
    if (!geo::saveGeoConfig(m_settings, secrets, c, newKey, &err))
        return tr("Geolocation: %1").arg(err);
    m_key->clear();
    if (m_service)
        m_service->reloadSettings(m_settings);
    load();
    return {};
}

} // namespace td::ui
