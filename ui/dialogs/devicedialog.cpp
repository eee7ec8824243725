#include "dialogs/devicedialog.h"

#include <QCheckBox>
#include <QColor>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QRegularExpression>
#include <QVBoxLayout>

#include <algorithm>

namespace td::ui {

DeviceDialog::DeviceDialog(const store::Device &d, QWidget *parent) : QDialog(parent), m_device(d) {
    setWindowTitle(tr("Device %1").arg(d.imei));
    m_name = new QLineEdit(d.name, this);
    m_name->setPlaceholderText(tr("e.g. Minou the cat"));
    // The model is what the device's login announces (the writer stores it at every login):
    // shown, not edited (an edit was saved nowhere and came back at the next login).
    m_model = new QLineEdit(d.model, this);
    m_model->setObjectName(QStringLiteral("deviceModel"));
    m_model->setReadOnly(true);
    m_model->setPlaceholderText(tr("not announced by the device"));
    m_model->setToolTip(tr("What the device announces at login (GT06 type id, JT/T 808 model); set by the device."));
    m_phone = new QLineEdit(d.phone, this);
    m_phone->setPlaceholderText(tr("+4917612345678 (the tracker's SIM, for SMS)"));
    m_password = new QLineEdit(d.smsPassword, this);
    m_password->setPlaceholderText(tr("SMS password, often 123456"));
    m_password->setEchoMode(QLineEdit::PasswordEchoOnEdit);
    m_color = new QLineEdit(d.color, this);
    m_color->setPlaceholderText(tr("#rrggbb, empty: automatic"));
    m_tz = new QComboBox(this);
    // What "no setting" means depends on the protocol: JT/T 808 times are Beijing time.
    m_tz->addItem(d.protocol == QLatin1String("jt808") ? tr("As the protocol says (UTC+08:00)")
                                                       : tr("As the device says (login) or UTC"),
                  QVariant());
    QList<int> offsets;
    for (int m = -12 * 60; m <= 14 * 60; m += 30)
        offsets << m;
    offsets << 5 * 60 + 45 << 8 * 60 + 45 << 12 * 60 + 45;   // Nepal, Eucla, Chatham
    std::sort(offsets.begin(), offsets.end());
    for (int m : std::as_const(offsets))
        m_tz->addItem(QStringLiteral("UTC%1%2:%3").arg(m < 0 ? QLatin1Char('-') : QLatin1Char('+'))
                          .arg(qAbs(m) / 60, 2, 10, QLatin1Char('0')).arg(qAbs(m) % 60, 2, 10, QLatin1Char('0')), m);
    if (d.timeZoneMinutes) {
        const int i = m_tz->findData(*d.timeZoneMinutes);
        m_tz->setCurrentIndex(i >= 0 ? i : 0);
    }
    m_blocked = new QCheckBox(tr("Blocked: refuse its connections and store nothing"), this);
    m_blocked->setChecked(d.state == store::DeviceState::Blocked);
    m_error = new QLabel(this);
    m_error->setStyleSheet(QStringLiteral("color:#b03000"));

    auto *form = new QFormLayout;
    form->addRow(tr("IMEI / ID"), new QLabel(d.imei, this));
    form->addRow(tr("Protocol"), new QLabel(d.protocol, this));
    form->addRow(tr("Name"), m_name);
    form->addRow(tr("Model"), m_model);
    form->addRow(tr("SIM number"), m_phone);
    form->addRow(tr("SMS password"), m_password);
    form->addRow(tr("Time zone of device times"), m_tz);
    form->addRow(tr("Map colour"), m_color);
    form->addRow(m_blocked);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto *lay = new QVBoxLayout(this);
    lay->addLayout(form);
    lay->addWidget(m_error);
    lay->addWidget(buttons);
}

store::Device DeviceDialog::device() const {
    store::Device d = m_device;
    d.name = m_name->text().trimmed();
    d.phone = m_phone->text().remove(QLatin1Char(' ')).remove(QLatin1Char('-'));
    d.smsPassword = m_password->text();
    d.color = m_color->text().trimmed();
    const QVariant tz = m_tz->currentData();
    d.timeZoneMinutes = tz.isValid() ? std::optional<int>(tz.toInt()) : std::nullopt;
    d.state = m_blocked->isChecked() ? store::DeviceState::Blocked : store::DeviceState::Accepted;
    return d;
}

QString DeviceDialog::validate() const {
    const store::Device d = device();
    static const QRegularExpression phoneRe(QStringLiteral("^\\+?[0-9]{3,20}$"));
    if (!d.phone.isEmpty() && !phoneRe.match(d.phone).hasMatch())
        return tr("The SIM number may hold digits and a leading + only (3 to 20 digits).");
    if (!d.color.isEmpty() && !QColor::isValidColorName(d.color))
        return tr("'%1' is not a colour (use #rrggbb).").arg(d.color);
    if (d.name.size() > store::kMaxDeviceNameLength)
        return tr("The name is longer than %1 characters.").arg(store::kMaxDeviceNameLength);
    if (d.smsPassword.size() > 32)
        return tr("The SMS password is longer than 32 characters.");
    return {};
}

void DeviceDialog::accept() {
    const QString err = validate();
    if (!err.isEmpty()) {
        m_error->setText(err);
        return;
    }
    QDialog::accept();
}

} // namespace td::ui
