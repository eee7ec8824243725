// SMS console: the conversation with the selected tracker (sent with status, received)
// and a compose line. Sending needs a GSM modem; the pane says which state it is in.
#pragma once

#include <QWidget>

class QLabel;
class QListView;
class QLineEdit;
class QPushButton;

namespace td::ui {

class SmsPane : public QWidget {
    Q_OBJECT
public:
    explicit SmsPane(QWidget *parent = nullptr);

private:
    QLabel *m_state;
    QListView *m_conversation;
    QLineEdit *m_compose;
    QPushButton *m_send;
};

} // namespace td::ui
