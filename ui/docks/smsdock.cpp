#include "docks/smsdock.h"

#include "dialogs/commanddialog.h"
#include "service/trackerservice.h"
#include "sms/conversationmodel.h"
#include "sms/numbers.h"
#include "sms/smsservice.h"

#include "trackerdesk/protocol/smspdu.h"
#include "trackerdesk/protocol/trackercommands.h"

#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QPainter>
#include <QPainterPath>
#include <QPushButton>
#include <QScrollBar>
#include <QTabWidget>
#include <QTimer>
#include <QVBoxLayout>

#include <algorithm>

namespace td::ui {

namespace {

constexpr int kPad = 8;          // inside a bubble
constexpr int kMargin = 6;       // around a bubble
constexpr double kMaxWidth = 0.8;
constexpr int kNumberRole = Qt::UserRole + 1;

QFont metaFont(const QFont &base) {
    QFont f = base;
    f.setPointSizeF(qMax(6.0, base.pointSizeF() * 0.85));
    return f;
}

struct BubbleLayout {
    QRect bubble, text, meta;
};

BubbleLayout layoutBubble(const QStyleOptionViewItem &option, const QModelIndex &index) {
    const QString text = index.data(Qt::DisplayRole).toString();
    const QString meta = index.data(sms::ConversationModel::StatusTextRole).toString();
    const bool sent = index.data(sms::ConversationModel::SentRole).toBool();
    const int width = qMax(120, option.rect.width());
    const int maxText = int(width * kMaxWidth) - 2 * kPad - 2 * kMargin;
    const QFontMetrics fm(option.font);
    const QFontMetrics mm(metaFont(option.font));
    QRect t = fm.boundingRect(QRect(0, 0, maxText, 100000), Qt::TextWordWrap | Qt::TextWrapAnywhere,
                              text.isEmpty() ? QStringLiteral(" ") : text);
    QRect m = mm.boundingRect(QRect(0, 0, maxText, 1000), Qt::TextWordWrap, meta);
    const int inner = qMax(t.width(), m.width());
    const int bw = inner + 2 * kPad;
    const int bh = t.height() + m.height() + 2 * kPad + 2;
    const int x = sent ? option.rect.right() - kMargin - bw + 1 : option.rect.left() + kMargin;
    BubbleLayout l;
    l.bubble = QRect(x, option.rect.top() + kMargin / 2, bw, bh);
    l.text = QRect(x + kPad, l.bubble.top() + kPad, inner, t.height());
    l.meta = QRect(x + kPad, l.text.bottom() + 3, inner, m.height());
    return l;
}

} // namespace

void SmsBubbleDelegate::paint(QPainter *painter, const QStyleOptionViewItem &option, const QModelIndex &index) const {
    const BubbleLayout l = layoutBubble(option, index);
    const bool sent = index.data(sms::ConversationModel::SentRole).toBool();
    const auto state = sms::State(index.data(sms::ConversationModel::StateRole).toInt());
    const auto channel = sms::Channel(index.data(sms::ConversationModel::ChannelRole).toInt());
    const bool failed = state == sms::State::Failed
        || (state == sms::State::Received && !index.data(sms::ConversationModel::ErrorRole).toString().isEmpty());
    const int positions = index.data(sms::ConversationModel::PositionsRole).toInt();
    QColor fill = sent ? (channel == sms::Channel::Gprs ? QColor(0xdf, 0xf3, 0xdc) : QColor(0xd8, 0xea, 0xff))
                       : QColor(0xef, 0xef, 0xef);
    if (state == sms::State::Queued || state == sms::State::Sending)
        fill = fill.lighter(104);
    painter->save();
    painter->setRenderHint(QPainter::Antialiasing);
    if (option.state & QStyle::State_Selected)
        fill = fill.darker(112);
    QPainterPath path;
    path.addRoundedRect(l.bubble, 9, 9);
    painter->fillPath(path, fill);
    if (failed) {
        painter->setPen(QPen(QColor(0xc0, 0x30, 0x20), 1.5));
        painter->drawPath(path);
    } else if (positions > 0) {
        painter->setPen(QPen(QColor(0x2e, 0x8b, 0x3e), 1.5));
        painter->drawPath(path);
    }
    painter->setFont(option.font);
    painter->setPen(option.palette.color(QPalette::Text));
    painter->drawText(l.text, Qt::TextWordWrap | Qt::TextWrapAnywhere, index.data(Qt::DisplayRole).toString());
    painter->setFont(metaFont(option.font));
    painter->setPen(failed ? QColor(0xc0, 0x30, 0x20) : positions > 0 ? QColor(0x2e, 0x7d, 0x32) : QColor(0x66, 0x66, 0x66));
    QString meta = index.data(sms::ConversationModel::StatusTextRole).toString();
    painter->drawText(l.meta, Qt::TextWordWrap | (sent ? Qt::AlignRight : Qt::AlignLeft), meta);
    painter->restore();
}

QSize SmsBubbleDelegate::sizeHint(const QStyleOptionViewItem &option, const QModelIndex &index) const {
    const BubbleLayout l = layoutBubble(option, index);
    return QSize(option.rect.width(), l.bubble.height() + kMargin);
}

// ---------------------------------------------------------------------------------------

SmsPane::SmsPane(QWidget *parent) : QWidget(parent) {
    m_model = new sms::ConversationModel(this);
    m_state = new QLabel(this);
    m_state->setObjectName(QStringLiteral("smsModemState"));
    m_state->setWordWrap(true);
    m_target = new QComboBox(this);
    m_target->setObjectName(QStringLiteral("smsTarget"));
    m_target->setEditable(true);
    m_target->setInsertPolicy(QComboBox::NoInsert);
    m_target->lineEdit()->setPlaceholderText(tr("Tracker, or a phone number"));
    m_conversation = new QListView(this);
    m_conversation->setObjectName(QStringLiteral("smsConversation"));
    m_conversation->setModel(m_model);
    m_conversation->setItemDelegate(new SmsBubbleDelegate(m_conversation));
    m_conversation->setVerticalScrollMode(QAbstractItemView::ScrollPerPixel);
    m_conversation->setResizeMode(QListView::Adjust);
    m_conversation->setUniformItemSizes(false);
    m_conversation->setWordWrap(true);
    m_conversation->setSelectionMode(QAbstractItemView::SingleSelection);
    m_compose = new QLineEdit(this);
    m_compose->setObjectName(QStringLiteral("smsCompose"));
    m_compose->setPlaceholderText(tr("Message or tracker command"));
    m_counter = new QLabel(this);
    m_counter->setObjectName(QStringLiteral("smsCounter"));
    m_channel = new QComboBox(this);
    m_channel->setObjectName(QStringLiteral("smsChannel"));
    m_channel->addItem(tr("Auto"), int(sms::ChannelChoice::Auto));
    m_channel->addItem(tr("SMS"), int(sms::ChannelChoice::Sms));
    m_channel->addItem(tr("GPRS"), int(sms::ChannelChoice::Gprs));
    m_channel->setToolTip(tr("Auto: a text command over GPRS when the tracker is online, else an SMS"));
    m_command = new QPushButton(tr("Command…"), this);
    m_command->setObjectName(QStringLiteral("smsCommand"));
    m_command->setToolTip(tr("Build a configuration command for this tracker (server, APN, interval, …)"));
    m_send = new QPushButton(tr("Send"), this);
    m_send->setObjectName(QStringLiteral("smsSend"));
    m_feedback = new QLabel(this);
    m_feedback->setObjectName(QStringLiteral("smsFeedback"));
    m_feedback->setWordWrap(true);

    auto *targetRow = new QHBoxLayout;
    targetRow->addWidget(new QLabel(tr("To:"), this));
    targetRow->addWidget(m_target, 1);
    auto *composeRow = new QHBoxLayout;
    composeRow->addWidget(m_compose, 1);
    composeRow->addWidget(m_send);
    auto *optionsRow = new QHBoxLayout;
    optionsRow->addWidget(m_counter, 1);
    optionsRow->addWidget(m_channel);
    optionsRow->addWidget(m_command);
    auto *chat = new QWidget(this);
    auto *chatLay = new QVBoxLayout(chat);
    chatLay->setContentsMargins(2, 2, 2, 2);
    chatLay->addLayout(targetRow);
    chatLay->addWidget(m_conversation, 1);
    chatLay->addLayout(composeRow);
    chatLay->addLayout(optionsRow);
    chatLay->addWidget(m_feedback);

    // The AT dialogue with the modem, for finding out why a modem does not send.
    m_logView = new QListView(this);
    m_logView->setObjectName(QStringLiteral("smsModemLog"));
    m_logView->setUniformItemSizes(true);
    m_logView->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_logView->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_copyLog = new QPushButton(tr("Copy"), this);
    m_copyLog->setObjectName(QStringLiteral("smsModemLogCopy"));
    m_copyLog->setToolTip(tr("Copy the selected lines (all lines when none is selected), e.g. for a bug report"));
    m_clearLog = new QPushButton(tr("Clear"), this);
    m_clearLog->setObjectName(QStringLiteral("smsModemLogClear"));
    auto *logPage = new QWidget(this);
    auto *logLay = new QVBoxLayout(logPage);
    logLay->setContentsMargins(2, 2, 2, 2);
    auto *logHint = new QLabel(tr("> sent to the modem, < its answers, -- state changes. The SIM PIN is never shown."), logPage);
    logHint->setWordWrap(true);
    logLay->addWidget(logHint);
    logLay->addWidget(m_logView, 1);
    auto *logButtons = new QHBoxLayout;
    logButtons->addStretch(1);
    logButtons->addWidget(m_copyLog);
    logButtons->addWidget(m_clearLog);
    logLay->addLayout(logButtons);

    m_tabs = new QTabWidget(this);
    m_tabs->setObjectName(QStringLiteral("smsTabs"));
    m_tabs->setDocumentMode(true);
    m_tabs->addTab(chat, tr("Conversation"));
    m_tabs->addTab(logPage, tr("Modem log"));

    auto *lay = new QVBoxLayout(this);
    lay->setContentsMargins(2, 2, 2, 2);
    lay->addWidget(m_state);
    lay->addWidget(m_tabs, 1);

    connect(m_copyLog, &QPushButton::clicked, this, [this] {
        auto *log = qobject_cast<sms::ModemLog *>(m_logView->model());
        if (!log)
            return;
        QModelIndexList rows = m_logView->selectionModel() ? m_logView->selectionModel()->selectedRows() : QModelIndexList();
        QString text;
        if (rows.isEmpty()) {
            text = log->text();
        } else {
            std::sort(rows.begin(), rows.end(), [](const QModelIndex &a, const QModelIndex &b) { return a.row() < b.row(); });
            for (const QModelIndex &i : std::as_const(rows))
                text += i.data().toString() + QLatin1Char('\n');
        }
        QApplication::clipboard()->setText(text);
    });
    connect(m_clearLog, &QPushButton::clicked, this, [this] {
        if (auto *log = qobject_cast<sms::ModemLog *>(m_logView->model()))
            log->clear();
    });

    connect(m_compose, &QLineEdit::textChanged, this, [this] {
        updateCounter();
        updateEnabled();
    });
    connect(m_compose, &QLineEdit::returnPressed, this, [this] { send(); });
    connect(m_send, &QPushButton::clicked, this, [this] { send(); });
    connect(m_command, &QPushButton::clicked, this, &SmsPane::openCommandDialog);
    connect(m_target, &QComboBox::activated, this, [this] { onTargetChosen(); });
    connect(m_target->lineEdit(), &QLineEdit::editingFinished, this, [this] { onTargetChosen(); });
    connect(m_model, &QAbstractItemModel::rowsInserted, m_conversation, [this] {
        QTimer::singleShot(0, m_conversation, [this] { m_conversation->scrollToBottom(); });
    });
    connect(m_model, &QAbstractItemModel::modelReset, m_conversation, [this] {
        QTimer::singleShot(0, m_conversation, [this] { m_conversation->scrollToBottom(); });
    });
    updateModem();
    updateCounter();
    updateEnabled();
}

void SmsPane::setServices(sms::SmsService *service, TrackerService *tracker) {
    if (m_sms)
        m_sms->disconnect(this);
    if (m_tracker)
        m_tracker->disconnect(this);
    if (auto *old = qobject_cast<sms::ModemLog *>(m_logView->model()))
        old->disconnect(this);
    m_sms = service;
    m_tracker = tracker;
    m_model->attach(service);
    m_logView->setModel(service ? service->modemLog() : nullptr);
    if (service) {
        // Follow new lines while the view shows the end; stay put while the user reads back.
        sms::ModemLog *log = service->modemLog();
        connect(log, &QAbstractItemModel::rowsAboutToBeInserted, this, [this] {
            const QScrollBar *bar = m_logView->verticalScrollBar();
            m_logAtEnd = bar->value() >= bar->maximum() - 2;
        });
        connect(log, &QAbstractItemModel::rowsInserted, this, [this] {
            if (m_logAtEnd)
                m_logView->scrollToBottom();
        });
        m_logView->scrollToBottom();
    }
    if (service) {
        connect(service, &sms::SmsService::modemStateChanged, this, &SmsPane::updateModem);
        connect(service, &sms::SmsService::modemInfoChanged, this, &SmsPane::updateModem);
        connect(service, &sms::SmsService::messageAdded, this, [this](const sms::Message &m) {
            // A message from a number that is not in the list yet: offer its conversation.
            if (m.deviceId == 0 && !m.number.isEmpty() && m_target->findData(m.number, kNumberRole) < 0)
                refreshTargets();
        });
    }
    if (tracker) {
        connect(tracker, &TrackerService::deviceAdded, this, &SmsPane::refreshTargets);
        connect(tracker, &TrackerService::deviceUpdated, this, [this](const DeviceStatus &d) {
            const int i = m_target->findData(d.device.id);
            const QString phone = sms::isPhoneNumber(d.device.phone) ? sms::normaliseNumber(d.device.phone) : QString();
            if (i < 0 || m_target->itemData(i, kNumberRole).toString() != phone
                || !m_target->itemText(i).startsWith(d.device.name.isEmpty() ? d.device.imei : d.device.name))
                refreshTargets();   // renamed or a new SIM number, not every position
        });
    }
    refreshTargets();
    updateModem();
    updateEnabled();
}

void SmsPane::setServerAddress(const QString &host, quint16 port) {
    m_serverHost = host;
    m_serverPort = port;
}

void SmsPane::refreshTargets() {
    const qint64 device = currentDevice();
    const QString number = currentNumber();
    const QSignalBlocker block(m_target);
    m_target->clear();
    if (m_tracker) {
        QList<DeviceStatus> devices = m_tracker->devices();
        std::sort(devices.begin(), devices.end(), [](const DeviceStatus &a, const DeviceStatus &b) {
            const QString la = a.device.name.isEmpty() ? a.device.imei : a.device.name;
            const QString lb = b.device.name.isEmpty() ? b.device.imei : b.device.name;
            return la.compare(lb, Qt::CaseInsensitive) < 0;
        });
        for (const DeviceStatus &d : std::as_const(devices)) {
            const QString name = d.device.name.isEmpty() ? d.device.imei : d.device.name;
            const bool hasPhone = sms::isPhoneNumber(d.device.phone);
            m_target->addItem(hasPhone ? QStringLiteral("%1 — %2").arg(name, sms::normaliseNumber(d.device.phone))
                                       : tr("%1 — no SIM number (GPRS only)").arg(name),
                              d.device.id);
            m_target->setItemData(m_target->count() - 1, hasPhone ? sms::normaliseNumber(d.device.phone) : QString(), kNumberRole);
        }
    }
    if (m_sms) {
        for (const sms::SmsStore::Conversation &c : m_sms->smsStore().conversations()) {
            if (c.deviceId != 0 || c.number.isEmpty())
                continue;
            m_target->addItem(c.number, qint64(0));
            m_target->setItemData(m_target->count() - 1, c.number, kNumberRole);
        }
    }
    int keep = device > 0 ? m_target->findData(device) : (number.isEmpty() ? -1 : m_target->findData(number, kNumberRole));
    if (keep >= 0) {
        m_target->setCurrentIndex(keep);
    } else if (!number.isEmpty()) {
        m_target->setCurrentIndex(-1);
        m_target->setEditText(number);
    } else {
        m_target->setCurrentIndex(-1);
    }
}

void SmsPane::onTargetChosen() {
    const int i = m_target->currentIndex();
    if (i >= 0 && m_target->itemText(i) == m_target->currentText()) {
        const qint64 id = m_target->itemData(i).toLongLong();
        if (id > 0)
            m_model->setConversation(id);
        else
            m_model->setConversation(0, m_target->itemData(i, kNumberRole).toString());
    } else {
        const QString typed = m_target->currentText().trimmed();
        const int match = m_target->findText(typed, Qt::MatchFixedString);
        if (match >= 0) {
            m_target->setCurrentIndex(match);
            onTargetChosen();
            return;
        }
        m_model->setConversation(0, sms::isPhoneNumber(typed) ? typed : QString());
    }
    m_feedback->clear();
    updateEnabled();
}

void SmsPane::showDevice(qint64 deviceId) {
    const int i = m_target->findData(deviceId);
    if (i < 0)
        return;
    m_target->setCurrentIndex(i);
    onTargetChosen();
}

void SmsPane::showNumber(const QString &number) {
    const int i = m_target->findData(sms::normaliseNumber(number), kNumberRole);
    if (i >= 0) {
        m_target->setCurrentIndex(i);
    } else {
        m_target->setCurrentIndex(-1);
        m_target->setEditText(number);
    }
    onTargetChosen();
}

qint64 SmsPane::currentDevice() const { return m_model->deviceId() > 0 ? m_model->deviceId() : 0; }

QString SmsPane::currentNumber() const { return m_model->deviceId() > 0 ? QString() : m_model->number(); }

void SmsPane::updateCounter() {
    const QString text = m_compose->text();
    if (text.isEmpty()) {
        m_counter->setText(QString());
        return;
    }
    const proto::pdu::SegmentInfo s = proto::pdu::segmentInfo(text);
    m_counter->setText(tr("%1/%2 · %n SMS · %3", nullptr, s.parts)
                           .arg(s.units)
                           .arg(s.parts * s.perPart)
                           .arg(s.encoding == proto::pdu::Encoding::Gsm7 ? QStringLiteral("GSM-7") : QStringLiteral("UCS-2")));
    m_counter->setToolTip(s.encoding == proto::pdu::Encoding::Gsm7
                              ? tr("GSM 7-bit: 160 characters in one SMS, 153 per part when split; { } [ ] ~ ^ | \\ € count twice")
                              : tr("A character outside the GSM alphabet makes the whole message UCS-2: 70 characters in one "
                                   "SMS, 67 per part"));
}

void SmsPane::updateModem() {
    QString text, tip;
    QString color = QStringLiteral("#555555");
    if (!m_sms) {
        text = tr("SMS is not available: the server did not start.");
    } else if (!m_sms->hasModem()) {
        QStringList ports;
        for (const modem::PortInfo &p : modem::availablePorts())
            ports << (p.systemLocation.isEmpty() ? p.name : p.systemLocation);
        text = ports.isEmpty() ? tr("No GSM modem configured (Settings > Modem); no serial ports found. Messages are kept "
                                    "queued; GPRS commands work.")
                               : tr("No GSM modem configured (Settings > Modem). Serial ports: %1").arg(ports.join(QStringLiteral(", ")));
    } else {
        const modem::ModemEngine *e = m_sms->modem();
        const modem::ModemInfo info = e->info();
        text = tr("Modem: %1").arg(m_sms->modemStatus());
        QStringList t;
        if (!info.manufacturer.isEmpty() || !info.model.isEmpty())
            t << QStringLiteral("%1 %2").arg(info.manufacturer, info.model).trimmed();
        t << tr("Port: %1").arg(e->config().port);
        if (!info.smsc.isEmpty())
            t << tr("SMS centre: %1").arg(info.smsc);
        if (info.registration >= 0)
            t << tr("Registration: %1").arg(info.registration == 1 ? tr("home network")
                                           : info.registration == 5 ? tr("roaming")
                                                                    : tr("not registered (%1)").arg(info.registration));
        tip = t.join(QLatin1Char('\n'));
        switch (e->state()) {
        case modem::ModemState::Ready: color = QStringLiteral("#2e7d32"); break;
        case modem::ModemState::Failed: color = QStringLiteral("#b03000"); break;
        default: color = QStringLiteral("#8a6d00"); break;
        }
    }
    m_state->setText(text);
    m_state->setToolTip(tip);
    m_state->setStyleSheet(QStringLiteral("color:%1").arg(color));
    emit modemStatusChanged(m_sms ? m_sms->modemStatus() : QString());
}

void SmsPane::updateEnabled() {
    const bool target = currentDevice() > 0 || !currentNumber().isEmpty();
    m_compose->setEnabled(m_sms && target);
    m_send->setEnabled(m_sms && target && !m_compose->text().trimmed().isEmpty());
    m_command->setEnabled(m_sms && target);
    m_channel->setEnabled(m_sms && currentDevice() > 0);
    if (currentDevice() <= 0)
        m_channel->setCurrentIndex(m_channel->findData(int(sms::ChannelChoice::Sms)));
}

QString SmsPane::send() {
    const QString text = m_compose->text();
    if (!m_sms || text.trimmed().isEmpty())
        return tr("nothing to send");
    const auto choice = sms::ChannelChoice(m_channel->currentData().toInt());
    sms::SendResult r;
    if (currentDevice() > 0)
        r = m_sms->sendToDevice(currentDevice(), text, choice);
    else if (!currentNumber().isEmpty())
        r = m_sms->send(currentNumber(), text, choice);
    else
        r.error = tr("choose a tracker or type a phone number first");
    if (!r.ok()) {
        m_feedback->setStyleSheet(QStringLiteral("color:#b03000"));
        m_feedback->setText(r.error);
        return r.error;
    }
    m_feedback->setStyleSheet(QString());
    m_feedback->setText(r.channel == sms::Channel::Gprs ? tr("Sent over GPRS; the reply appears here.") : r.note);
    m_compose->clear();
    // A number that belongs to a device: continue in the device's conversation.
    if (currentDevice() == 0)
        if (const auto m = m_sms->message(r.id); m && m->deviceId > 0)
            showDevice(m->deviceId);
    return {};
}

void SmsPane::openCommandDialog() {
    proto::commands::Family family = proto::commands::Family::Gt06;
    QString password;
    if (m_tracker && currentDevice() > 0) {
        if (const auto d = m_tracker->device(currentDevice())) {
            family = proto::commands::familyForDevice(d->device.protocol, d->device.model);
            password = d->device.smsPassword;
        }
    }
    CommandDialog dlg(family, password, m_serverHost, m_serverPort, this);
    if (dlg.exec() != QDialog::Accepted)
        return;
    m_compose->setText(dlg.text());
    m_compose->setFocus();
}

} // namespace td::ui
