// "Tracker command": the SMS command templates of the tracker's dialect as forms
// (td::proto::commands). The family is guessed from the device, the server address is
// prefilled with this machine's address and TrackerDesk's port, every field is validated as
// it is typed and the exact text is previewed; commands flagged dangerous (factory reset,
// cutting the fuel) are confirmed before the dialog accepts. The result goes to the compose
// line of the SMS console.
#pragma once

#include "trackerdesk/protocol/trackercommands.h"

#include <QDialog>
#include <QHash>
#include <functional>

class QComboBox;
class QFormLayout;
class QLabel;
class QLineEdit;
class QDialogButtonBox;

namespace td::ui {

class CommandDialog : public QDialog {
    Q_OBJECT
public:
    CommandDialog(proto::commands::Family family, const QString &password, const QString &serverHost, quint16 serverPort,
                  QWidget *parent = nullptr);

    proto::commands::Family family() const;
    void setFamily(proto::commands::Family family);
    QString commandId() const;
    bool selectCommand(const QString &commandId);
    void setValue(const QString &paramId, const QString &value);
    // The formatted command, empty while a field is not valid (error() says why).
    QString text() const { return m_text; }
    QString error() const { return m_error; }

    // Asked before accepting a dangerous command; default: a warning box with Yes/No.
    void setConfirmation(std::function<bool(const QString &question)> confirm) { m_confirm = std::move(confirm); }
    void accept() override;

    QComboBox *familyBox() const { return m_familyBox; }
    QComboBox *commandBox() const { return m_commandBox; }
    QLineEdit *editor(const QString &paramId) const { return m_editors.value(paramId); }
    QLineEdit *passwordEdit() const { return m_password; }
    QLabel *previewLabel() const { return m_preview; }

private:
    void fillCommands();
    void buildForm();
    void update();

    QComboBox *m_familyBox;
    QComboBox *m_commandBox;
    QLabel *m_convention;
    QLineEdit *m_password;
    QFormLayout *m_form;
    QWidget *m_formHost;
    QHash<QString, QLineEdit *> m_editors;
    QLabel *m_about;
    QLabel *m_preview;
    QLabel *m_problem;
    QDialogButtonBox *m_buttons;
    QString m_serverHost;
    quint16 m_serverPort;
    QString m_text, m_error;
    std::function<bool(const QString &)> m_confirm;
};

} // namespace td::ui
