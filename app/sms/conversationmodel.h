// One conversation of the SMS console as a list model: the messages exchanged with a device
// (by SMS or as GPRS commands) or with a phone number that matches no device, oldest first.
// Follows the service: new messages are appended, state changes (sent, delivered, failed)
// update their row.
#pragma once

#include "sms/smsstore.h"

#include <QAbstractListModel>
#include <QPointer>

namespace td::sms {

class SmsService;

class ConversationModel : public QAbstractListModel {
    Q_OBJECT
public:
    enum Role {
        MessageRole = Qt::UserRole + 1,  // the Message
        SentRole,                        // bool: sent by us
        StateRole,                       // State as int
        ChannelRole,                     // Channel as int
        TimeRole,                        // QDateTime: created (received: SMSC time when known)
        PositionsRole,                   // int: fixes found in the text
        ErrorRole,                       // failure reason / note
        StatusTextRole,                  // "12:03 · sms · delivered · 1 position"
    };

    explicit ConversationModel(QObject *parent = nullptr);
    void attach(SmsService *service);
    // deviceId > 0: that device's messages; else the messages of `number` that match no device.
    void setConversation(qint64 deviceId, const QString &number = {});
    qint64 deviceId() const { return m_deviceId; }
    QString number() const { return m_number; }
    void reload();
    int maxRows() const { return m_maxRows; }
    void setMaxRows(int rows) { m_maxRows = rows; }

    const Message &at(int row) const { return m_rows.at(row); }
    int rowOfMessage(qint64 id) const;
    static QString statusText(const Message &m);

    int rowCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;

private:
    bool belongs(const Message &m) const;
    void onAdded(const Message &m);
    void onChanged(const Message &m);

    QPointer<SmsService> m_service;
    QList<Message> m_rows;
    qint64 m_deviceId = -1;   // -1: nothing selected
    QString m_number;
    int m_maxRows = 500;
};

} // namespace td::sms
