#include "dialogs/commanddialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QVBoxLayout>

namespace td::ui {

using namespace td::proto::commands;

CommandDialog::CommandDialog(Family family, const QString &password, const QString &serverHost, quint16 serverPort,
                             QWidget *parent)
    : QDialog(parent), m_serverHost(serverHost), m_serverPort(serverPort) {
    setWindowTitle(tr("Tracker command"));
    m_familyBox = new QComboBox(this);
    m_familyBox->setObjectName(QStringLiteral("familyBox"));
    for (const Dialect &d : dialects())
        m_familyBox->addItem(d.name, int(d.family));
    m_commandBox = new QComboBox(this);
    m_commandBox->setObjectName(QStringLiteral("commandBox"));
    m_convention = new QLabel(this);
    m_convention->setWordWrap(true);
    m_password = new QLineEdit(password, this);
    m_password->setObjectName(QStringLiteral("passwordEdit"));
    m_formHost = new QWidget(this);
    m_form = new QFormLayout(m_formHost);
    m_form->setContentsMargins(0, 0, 0, 0);
    m_about = new QLabel(this);
    m_about->setWordWrap(true);
    m_about->setTextFormat(Qt::PlainText);
    m_preview = new QLabel(this);
    m_preview->setObjectName(QStringLiteral("preview"));
    m_preview->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_preview->setStyleSheet(QStringLiteral("font-family: monospace; font-size: 12pt; padding: 4px; background: #f4f4f4;"));
    m_problem = new QLabel(this);
    m_problem->setObjectName(QStringLiteral("problem"));
    m_problem->setWordWrap(true);
    m_problem->setStyleSheet(QStringLiteral("color:#b03000"));
    m_buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    m_buttons->button(QDialogButtonBox::Ok)->setText(tr("Use this command"));
    connect(m_buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    auto *top = new QFormLayout;
    top->addRow(tr("Tracker family"), m_familyBox);
    top->addRow(QString(), m_convention);
    top->addRow(tr("Command"), m_commandBox);
    top->addRow(tr("SMS password"), m_password);
    auto *lay = new QVBoxLayout(this);
    lay->addLayout(top);
    lay->addWidget(m_formHost);
    lay->addWidget(m_about);
    lay->addWidget(new QLabel(tr("Text to send:"), this));
    lay->addWidget(m_preview);
    lay->addWidget(m_problem);
    lay->addStretch();
    lay->addWidget(m_buttons);

    m_confirm = [this](const QString &question) {
        return QMessageBox::warning(this, tr("Tracker command"), question, QMessageBox::Yes | QMessageBox::No, QMessageBox::No)
               == QMessageBox::Yes;
    };
    connect(m_familyBox, &QComboBox::currentIndexChanged, this, [this] { fillCommands(); });
    connect(m_commandBox, &QComboBox::currentIndexChanged, this, [this] { buildForm(); });
    connect(m_password, &QLineEdit::textChanged, this, [this] { update(); });
    setFamily(family);
    resize(520, sizeHint().height());
}

Family CommandDialog::family() const { return Family(m_familyBox->currentData().toInt()); }

void CommandDialog::setFamily(Family f) {
    const int i = m_familyBox->findData(int(f));
    if (i == m_familyBox->currentIndex())
        fillCommands();
    else
        m_familyBox->setCurrentIndex(i);
}

QString CommandDialog::commandId() const { return m_commandBox->currentData().toString(); }

bool CommandDialog::selectCommand(const QString &id) {
    const int i = m_commandBox->findData(id);
    if (i < 0)
        return false;
    m_commandBox->setCurrentIndex(i);
    return true;
}

void CommandDialog::setValue(const QString &paramId, const QString &value) {
    if (QLineEdit *e = m_editors.value(paramId))
        e->setText(value);
}

void CommandDialog::fillCommands() {
    const Dialect &d = dialect(family());
    m_convention->setText(d.passwordConvention);
    m_password->setEnabled(d.usesPassword);
    m_password->setPlaceholderText(d.usesPassword ? tr("default %1").arg(d.defaultPassword) : tr("not used by this family"));
    const QString previous = commandId();
    const QSignalBlocker block(m_commandBox);
    m_commandBox->clear();
    for (const CommandTemplate &c : d.commands)
        m_commandBox->addItem(c.dangerous ? tr("%1 (dangerous)").arg(c.label) : c.label, c.id);
    const int keep = m_commandBox->findData(previous);
    m_commandBox->setCurrentIndex(keep >= 0 ? keep : 0);
    buildForm();
}

void CommandDialog::buildForm() {
    while (m_form->rowCount() > 0)
        m_form->removeRow(0);
    m_editors.clear();
    const CommandTemplate *c = findCommand(family(), commandId());
    if (!c) {
        update();
        return;
    }
    for (const Param &p : c->params) {
        auto *e = new QLineEdit(m_formHost);
        e->setObjectName(QStringLiteral("param_") + p.id);
        QString value = p.defaultValue;
        if (p.type == ParamType::Host || p.type == ParamType::IpAddress)
            value = m_serverHost;
        else if (p.type == ParamType::Port && m_serverPort > 0)
            value = QString::number(m_serverPort);
        e->setText(value);
        e->setPlaceholderText(p.required ? p.help : tr("optional"));
        e->setToolTip(p.help);
        connect(e, &QLineEdit::textChanged, this, [this] { update(); });
        m_form->addRow(p.required ? p.label : tr("%1 (optional)").arg(p.label), e);
        m_editors.insert(p.id, e);
    }
    QStringList about;
    about << (c->evidence == Evidence::Verified ? tr("Verified syntax: %1").arg(c->source)
                                                : tr("Reported, unverified syntax (test it on your unit first): %1").arg(c->source));
    if (!c->reply.isEmpty())
        about << tr("Typical reply: %1").arg(c->reply);
    if (!c->note.isEmpty())
        about << c->note;
    if (c->id == QLatin1String("server"))
        about << tr("Trackers reach the server over the mobile network: unless their APN ends in your LAN, use your public "
                    "address or domain and forward the port to this machine.");
    m_about->setText(about.join(QLatin1Char('\n')));
    update();
}

void CommandDialog::update() {
    Values values;
    for (auto it = m_editors.cbegin(); it != m_editors.cend(); ++it)
        values.insert(it.key(), it.value()->text());
    QString err;
    const auto text = formatCommand(family(), commandId(), values, m_password->text(), &err);
    m_text = text.value_or(QString());
    m_error = text ? QString() : err;
    m_preview->setText(m_text.isEmpty() ? QStringLiteral("—") : m_text);
    m_problem->setText(m_error);
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(!m_text.isEmpty());
}

void CommandDialog::accept() {
    if (m_text.isEmpty())
        return;
    const CommandTemplate *c = findCommand(family(), commandId());
    if (c && c->dangerous) {
        const QString question = tr("\"%1\" is dangerous: %2\n\nUse the command %3?")
                                     .arg(c->label, c->note.isEmpty() ? tr("it changes the tracker irreversibly.") : c->note, m_text);
        if (!m_confirm || !m_confirm(question))
            return;
    }
    QDialog::accept();
}

} // namespace td::ui
