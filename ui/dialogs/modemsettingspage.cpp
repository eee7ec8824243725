#include "dialogs/modemsettingspage.h"

#include "sms/smsservice.h"

#include <QComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QThread>
#include <QVBoxLayout>

#include <memory>

namespace td::ui {

namespace {
constexpr int kProbeTimeoutMs = 3000;
const qint32 kBauds[] = {9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600};
}

ModemSettingsPage::ModemSettingsPage(AppSettings &settings, QWidget *parent)
    : QWidget(parent), m_settings(settings), m_dataDir(settings.dataDir()) {
    m_port = new QComboBox(this);
    m_port->setObjectName(QStringLiteral("modemPort"));
    m_port->setEditable(true);
    m_port->setToolTip(tr("The modem's AT command port. USB modems show several ports: pick the AT one and press Detect."));
    m_port->addItem(tr("(no modem)"), QString());
    for (const modem::PortInfo &p : modem::availablePorts()) {
        QString label = p.systemLocation.isEmpty() ? p.name : p.systemLocation;
        QStringList about;
        if (!p.description.isEmpty()) about << p.description;
        if (!p.manufacturer.isEmpty()) about << p.manufacturer;
        if (p.hasIds) about << QStringLiteral("%1:%2").arg(p.vendorId, 4, 16, QLatin1Char('0')).arg(p.productId, 4, 16, QLatin1Char('0'));
        if (!about.isEmpty())
            label += QStringLiteral("  — ") + about.join(QStringLiteral(", "));
        m_port->addItem(label, p.systemLocation.isEmpty() ? p.name : p.systemLocation);
    }
    m_baud = new QComboBox(this);
    m_baud->setObjectName(QStringLiteral("modemBaud"));
    for (qint32 b : kBauds)
        m_baud->addItem(QString::number(b), b);
    m_pin = new QLineEdit(this);
    m_pin->setObjectName(QStringLiteral("modemPin"));
    m_pin->setEchoMode(QLineEdit::Password);
    m_pin->setPlaceholderText(tr("only if the SIM asks for one"));
    m_pin->setToolTip(tr("Kept in a file readable only by you in the data folder, never in the settings file or a log."));
    m_detect = new QPushButton(tr("Detect"), this);
    m_detect->setObjectName(QStringLiteral("modemDetect"));
    m_detectResult = new QLabel(this);
    m_detectResult->setObjectName(QStringLiteral("modemDetectResult"));
    m_detectResult->setWordWrap(true);
    connect(m_detect, &QPushButton::clicked, this, &ModemSettingsPage::detect);

    auto *portRow = new QHBoxLayout;
    portRow->addWidget(m_port, 1);
    portRow->addWidget(m_detect);
    auto *form = new QFormLayout;
    form->addRow(tr("Serial port"), portRow);
    form->addRow(tr("Speed (baud)"), m_baud);
    form->addRow(tr("SIM PIN"), m_pin);
    form->addRow(QString(), m_detectResult);
    auto *hint = new QLabel(tr("A GSM/LTE modem with an AT port (SIM800, Huawei E3372 in stick mode, Quectel EC25 …) sends and "
                               "receives the SMS of the SMS console. Huawei HiLink sticks have no AT port. On Linux, make "
                               "ModemManager leave the port alone."), this);
    hint->setWordWrap(true);
    auto *lay = new QVBoxLayout(this);
    lay->addLayout(form);
    lay->addWidget(hint);
    lay->addStretch();
    load();
}

ModemSettingsPage::~ModemSettingsPage() {
    if (m_probe) {
        m_probe->disconnect(this);
        m_probe->wait();   // bounded by the probe timeout
        delete m_probe;
    }
}

void ModemSettingsPage::setDataDir(const QString &dir) {
    m_dataDir = dir;
    load();
}

void ModemSettingsPage::load() {
    const sms::ModemSettings m = sms::loadModemSettings(m_settings, m_dataDir);
    const int i = m_port->findData(m.port);
    if (i >= 0)
        m_port->setCurrentIndex(i);
    else
        m_port->setEditText(m.port);
    const int b = m_baud->findData(m.baud);
    m_baud->setCurrentIndex(b >= 0 ? b : m_baud->findData(115200));
    m_pin->setText(m.pin);
}

QString ModemSettingsPage::portName() const {
    // An entry from the list carries its port as data; typed text is taken as it is.
    const int i = m_port->currentIndex();
    if (i >= 0 && m_port->itemText(i) == m_port->currentText())
        return m_port->itemData(i).toString();
    return m_port->currentText().trimmed();
}

modem::ModemConfig ModemSettingsPage::config() const {
    modem::ModemConfig c;
    c.port = portName();
    c.baud = m_baud->currentData().toInt();
    c.pin = m_pin->text().trimmed();
    return c;
}

QString ModemSettingsPage::validate() const {
    static const QRegularExpression pin(QStringLiteral("^\\d{4,8}$"));
    const QString p = m_pin->text().trimmed();
    if (!p.isEmpty() && !pin.match(p).hasMatch())
        return tr("SIM PIN: 4 to 8 digits.");
    const QString port = portName();
    if (port.contains(QLatin1Char(' ')) || port.contains(QLatin1Char(',')))
        return tr("Modem port: '%1' is not a port name (e.g. /dev/ttyUSB2 or COM5).").arg(port);
    return {};
}

QString ModemSettingsPage::save() {
    const sms::ModemSettings before = sms::loadModemSettings(m_settings, m_dataDir);
    const modem::ModemConfig c = config();
    sms::ModemSettings m;
    m.port = c.port;
    m.baud = c.baud;
    m.pin = c.pin;
    QString error;
    if (!sms::saveModemSettings(m_settings, m_dataDir, m, &error))
        return tr("Modem: %1").arg(error);
    if (before.port != m.port || before.baud != m.baud || before.pin != m.pin)
        emit modemChanged(c);
    return {};
}

void ModemSettingsPage::detect() {
    if (m_probe)
        return;
    const QString port = portName();
    if (port.isEmpty()) {
        m_detectResult->setText(tr("Choose a port first."));
        return;
    }
    const qint32 baud = m_baud->currentData().toInt();
    m_detect->setEnabled(false);
    m_detectResult->setText(tr("Asking %1 …").arg(port));
    auto result = std::make_shared<std::pair<bool, QString>>(false, QString());
    m_probe = QThread::create([port, baud, result] {
        QString answer;
        result->first = modem::ModemEngine::probe(port, baud, kProbeTimeoutMs, &answer);
        result->second = answer;
    });
    connect(m_probe, &QThread::finished, this, [this, port, result] {
        m_probe->deleteLater();
        m_probe = nullptr;
        m_detect->setEnabled(true);
        m_detectResult->setText(result->first ? tr("A modem answers on %1: %2").arg(port, result->second.simplified())
                                              : tr("No modem answer on %1%2").arg(port, result->second.isEmpty()
                                                                                            ? QString()
                                                                                            : QStringLiteral(": ") + result->second));
        emit detectFinished(result->first, result->second);
    });
    m_probe->start();
}

} // namespace td::ui
