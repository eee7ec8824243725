// CLI sub-commands: `trackerdesk COMMAND [options]`. One table (cli.cpp), one file per
// command. Commands run on a QCoreApplication, write results to stdout and errors as one
// clear line to stderr, and return the process exit code.
#pragma once

#include <QList>
#include <QString>
#include <QStringList>

namespace td::cli {

struct Command {
    QString name;
    QString summary;
    int (*run)(const QStringList &arguments);  // arguments[0] is "trackerdesk COMMAND"
};

const QList<Command> &commands();
const Command *findCommand(const QString &name);

// Shared helpers for commands.
void printError(const QString &message);   // "trackerdesk: error: ..." on stderr
void printOut(const QString &text);        // stdout, UTF-8

} // namespace td::cli
