// SMS console: pick a tracker (or type a number), read the conversation with it (sent
// messages with their state and channel, received ones, replies to GPRS commands, texts
// whose positions went to the map marked), write a message with a live part counter
// (GSM-7 / UCS-2, parts), choose the channel (auto, SMS, GPRS), or build a tracker command
// from the templates ("Command…"). The top line shows the modem: state, operator, signal,
// SIM storage; the "Modem log" tab the AT dialogue with it. Talks to the SMS service only,
// never to the port or the database.
#pragma once

#include <QPointer>
#include <QStyledItemDelegate>
#include <QWidget>

class QComboBox;
class QLabel;
class QLineEdit;
class QListView;
class QPushButton;
class QTabWidget;

namespace td {
class TrackerService;
}
namespace td::sms {
class SmsService;
class ConversationModel;
}

namespace td::ui {

// Paints a message as a bubble: ours on the right, the tracker's on the left, a status line
// (time · channel · state · positions) under the text, failures in red.
class SmsBubbleDelegate : public QStyledItemDelegate {
    Q_OBJECT
public:
    using QStyledItemDelegate::QStyledItemDelegate;
    void paint(QPainter *painter, const QStyleOptionViewItem &option, const QModelIndex &index) const override;
    QSize sizeHint(const QStyleOptionViewItem &option, const QModelIndex &index) const override;
};

class SmsPane : public QWidget {
    Q_OBJECT
public:
    explicit SmsPane(QWidget *parent = nullptr);

    // The SMS service (null: SMS not available) and the tracker service (devices, addresses).
    void setServices(sms::SmsService *sms, TrackerService *tracker);
    // What the command dialog prefills for "Set server".
    void setServerAddress(const QString &host, quint16 port);
    // Shows the conversation with a device (e.g. the one selected in the devices dock).
    void showDevice(qint64 deviceId);
    void showNumber(const QString &number);
    qint64 currentDevice() const;
    QString currentNumber() const;   // the number typed / chosen when it is not a device's

    // Sends the compose line on the chosen channel (what the Send button does). Returns the
    // error, empty when accepted.
    QString send();
    void openCommandDialog();

    QLabel *modemLabel() const { return m_state; }
    QComboBox *targetBox() const { return m_target; }
    QListView *conversationView() const { return m_conversation; }
    sms::ConversationModel *model() const { return m_model; }
    QLineEdit *composeEdit() const { return m_compose; }
    QLabel *counterLabel() const { return m_counter; }
    QComboBox *channelBox() const { return m_channel; }
    QPushButton *sendButton() const { return m_send; }
    QPushButton *commandButton() const { return m_command; }
    QLabel *feedbackLabel() const { return m_feedback; }
    // The "Conversation" / "Modem log" tabs; the modem log lists the AT dialogue (the SMS
    // service's ModemLog), follows new lines while scrolled to the end, Copy / Clear.
    QTabWidget *tabs() const { return m_tabs; }
    QListView *modemLogView() const { return m_logView; }
    QPushButton *copyLogButton() const { return m_copyLog; }
    QPushButton *clearLogButton() const { return m_clearLog; }

signals:
    void modemStatusChanged(const QString &summary);

private:
    void refreshTargets();
    void onTargetChosen();
    void updateCounter();
    void updateModem();
    void updateEnabled();

    QPointer<sms::SmsService> m_sms;
    QPointer<TrackerService> m_tracker;
    sms::ConversationModel *m_model;
    QLabel *m_state;
    QComboBox *m_target;
    QListView *m_conversation;
    QLineEdit *m_compose;
    QLabel *m_counter;
    QComboBox *m_channel;
    QPushButton *m_command;
    QPushButton *m_send;
    QLabel *m_feedback;
    QTabWidget *m_tabs;
    QListView *m_logView;
    QPushButton *m_copyLog;
    QPushButton *m_clearLog;
    bool m_logAtEnd = true;
    QString m_serverHost;
    quint16 m_serverPort = 0;
};

} // namespace td::ui
