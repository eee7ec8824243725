#include "dialogs/settingsdialog.h"

#include "dialogs/geosettingspage.h"
#include "dialogs/modemsettingspage.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHostAddress>
#include <QLabel>
#include <QLineEdit>
#include <QSpinBox>
#include <QTabWidget>
#include <QVBoxLayout>

namespace td::ui {

static int intSetting(QSettings &s, const char *key, int def) {
    bool ok = false;
    const int v = s.value(QLatin1String(key), def).toInt(&ok);
    return ok ? v : def;
}

SettingsDialog::SettingsDialog(AppSettings &settings, QWidget *parent) : QDialog(parent), m_settings(settings) {
    setWindowTitle(tr("Settings"));
    QSettings &s = settings.raw();

    m_port = new QSpinBox(this);
    m_port->setRange(1, 65535);
    m_port->setValue(settings.port());
    m_listen = new QLineEdit(s.value(QStringLiteral("server/listen")).toString(), this);
    m_listen->setPlaceholderText(tr("all addresses"));
    m_idle = new QSpinBox(this);
    m_idle->setRange(30, 86400);
    m_idle->setSuffix(tr(" s"));
    m_idle->setValue(intSetting(s, "server/idleTimeoutSec", 600));
    m_acceptUnknown = new QCheckBox(tr("Accept devices that are not in the list (home use)"), this);
    m_acceptUnknown->setChecked(s.value(QStringLiteral("server/acceptUnknownDevices"), true).toBool());
    m_acceptUnknown->setToolTip(tr("Off: only listed devices are served (an allowlist); others are refused and nothing of theirs is stored."));

    const TileSource t = settings.tileSource();
    m_tileUrl = new QLineEdit(t.urlTemplate, this);
    m_tileUrl->setToolTip(tr("Any tile server URL with {z}, {x} and {y}"));
    m_tileCache = new QLineEdit(t.cacheDir, this);
    m_dataDir = new QLineEdit(s.value(QStringLiteral("store/dataDir")).toString(), this);
    m_dataDir->setPlaceholderText(settings.dataDir());
    m_retentionDays = new QSpinBox(this);
    m_retentionDays->setRange(0, 36500);
    m_retentionDays->setSpecialValueText(tr("keep forever"));
    m_retentionDays->setSuffix(tr(" days"));
    m_retentionDays->setValue(intSetting(s, "store/retentionDays", 0));
    m_retentionFrames = new QSpinBox(this);
    m_retentionFrames->setRange(0, 2000000000);
    m_retentionFrames->setSpecialValueText(tr("no limit"));
    m_retentionFrames->setValue(intSetting(s, "store/retentionFrames", 0));

    auto *server = new QGroupBox(tr("Tracker server"), this);
    auto *sf = new QFormLayout(server);
    sf->addRow(tr("Port (after a restart)"), m_port);
    sf->addRow(tr("Listen address (after a restart)"), m_listen);
    sf->addRow(tr("Idle timeout"), m_idle);
    sf->addRow(m_acceptUnknown);
    auto *map = new QGroupBox(tr("Map"), this);
    auto *mf = new QFormLayout(map);
    mf->addRow(tr("Tile URL"), m_tileUrl);
    mf->addRow(tr("Tile cache folder"), m_tileCache);
    auto *store = new QGroupBox(tr("Data"), this);
    auto *df = new QFormLayout(store);
    df->addRow(tr("Data folder (after a restart)"), m_dataDir);
    df->addRow(tr("Keep raw frames"), m_retentionDays);
    df->addRow(tr("At most raw frames"), m_retentionFrames);

    m_error = new QLabel(this);
    m_error->setObjectName(QStringLiteral("settingsError"));
    m_error->setStyleSheet(QStringLiteral("color:#b03000"));
    m_error->setWordWrap(true);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    // One tab per area; the first holds the server, map and data settings.
    m_tabs = new QTabWidget(this);
    auto *general = new QWidget(m_tabs);
    auto *gl = new QVBoxLayout(general);
    gl->addWidget(server);
    gl->addWidget(map);
    gl->addWidget(store);
    gl->addStretch();
    m_tabs->addTab(general, tr("General"));
    m_geoPage = new GeoSettingsPage(settings, m_tabs);
    m_tabs->addTab(m_geoPage, tr("Geolocation"));
    m_modemPage = new ModemSettingsPage(settings, m_tabs);
    m_tabs->addTab(m_modemPage, tr("Modem"));
    auto *lay = new QVBoxLayout(this);
    lay->addWidget(m_tabs);
    lay->addWidget(m_error);
    lay->addWidget(buttons);
}

QString SettingsDialog::validate() const {
    QString why;
    if (!TileSource::isValidTemplate(m_tileUrl->text().trimmed(), &why))
        return tr("Tile URL: %1.").arg(why);
    const QString listen = m_listen->text().trimmed();
    if (!listen.isEmpty() && QHostAddress(listen).isNull())
        return tr("Listen address: '%1' is not an IP address.").arg(listen);
    if (const QString geo = m_geoPage->validate(); !geo.isEmpty())
        return geo;
    if (const QString modem = m_modemPage->validate(); !modem.isEmpty())
        return modem;
    for (QLineEdit *e : {m_tileCache, m_dataDir}) {
        const QString dir = e->text().trimmed();
        if (dir.isEmpty())
            continue;
        const QFileInfo fi(dir);
        if (fi.exists() && !fi.isDir())
            return tr("'%1' exists and is not a folder.").arg(dir);
        if (!QDir().mkpath(dir) || !QFileInfo(dir).isWritable())
            return tr("The folder '%1' cannot be created or written.").arg(dir);
    }
    return {};
}

QStringList SettingsDialog::save() {
    QSettings &s = m_settings.raw();
    QStringList restart;
    if (m_port->value() != m_settings.port())
        restart << tr("port");
    if (m_listen->text().trimmed() != s.value(QStringLiteral("server/listen")).toString())
        restart << tr("listen address");
    if (m_dataDir->text().trimmed() != s.value(QStringLiteral("store/dataDir")).toString())
        restart << tr("data folder");
    m_settings.setPort(quint16(m_port->value()));
    s.setValue(QStringLiteral("server/listen"), m_listen->text().trimmed());
    s.setValue(QStringLiteral("server/idleTimeoutSec"), m_idle->value());
    s.setValue(QStringLiteral("server/acceptUnknownDevices"), m_acceptUnknown->isChecked());
    s.setValue(QStringLiteral("store/dataDir"), m_dataDir->text().trimmed());
    s.setValue(QStringLiteral("store/retentionDays"), m_retentionDays->value());
    s.setValue(QStringLiteral("store/retentionFrames"), m_retentionFrames->value());
    const TileSource old = m_settings.tileSource();
    TileSource t{m_tileUrl->text().trimmed(), m_tileCache->text().trimmed()};
    m_settings.setTileSource(t);
    t = m_settings.tileSource();  // cache folder default filled in
    s.sync();
    if (t.urlTemplate != old.urlTemplate || t.cacheDir != old.cacheDir)
        emit tileSourceChanged(t);
    emit acceptUnknownChanged(m_acceptUnknown->isChecked());
    emit retentionChanged(m_retentionDays->value(), m_retentionFrames->value());
    emit idleTimeoutChanged(m_idle->value());
    m_error->setText(m_geoPage->save());   // the API key could not be stored: say so, stay open
    if (const QString modem = m_modemPage->save(); !modem.isEmpty())
        m_error->setText(modem);
    return restart;
}

void SettingsDialog::accept() {
    const QString err = validate();
    if (!err.isEmpty()) {
        m_error->setText(err);
        return;
    }
    save();
    if (!m_error->text().isEmpty())
        return;
    QDialog::accept();
}

} // namespace td::ui
