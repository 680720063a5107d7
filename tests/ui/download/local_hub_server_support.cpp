#include "local_hub_server_support.h"

#include <QCryptographicHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPointer>
#include <QRandomGenerator>
#include <QSet>
#include <QTcpSocket>
#include <QTimer>
#include <QUrl>
#include <QUrlQuery>

#include <algorithm>
#include <memory>

namespace gd::test {
namespace {

QByteArray reason(int status) {
    switch (status) {
        case 200: return "OK";
        case 206: return "Partial Content";
        case 302: return "Found";
        case 401: return "Unauthorized";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 416: return "Range Not Satisfiable";
        case 503: return "Service Unavailable";
        default: return "Status";
    }
}

QByteArray statusLine(int status) {
    return "HTTP/1.1 " + QByteArray::number(status) + ' ' + reason(status) + "\r\n";
}

}  // namespace

LocalHubServer::LocalHubServer(QObject* parent) : QObject(parent) {
    connect(&server_, &QTcpServer::newConnection, this, &LocalHubServer::onNewConnection);
}

LocalHubServer::~LocalHubServer() {
    // The sockets die with server_, after buffers_; their handlers must not run by then.
    for (QTcpSocket* socket : server_.findChildren<QTcpSocket*>()) {
        socket->disconnect(this);
        socket->abort();
    }
}

bool LocalHubServer::listen() {
    return server_.listen(QHostAddress::LocalHost, 0);
}

QString LocalHubServer::endpoint() const {
    return QStringLiteral("http://127.0.0.1:%1").arg(port());
}

void LocalHubServer::addFile(const QString& repo, const QString& path, const QByteArray& content, bool lfs) {
    repos_[repo].insert(path, File{content, lfs});
}

QByteArray LocalHubServer::content(const QString& repo, const QString& path) const {
    return repos_.value(repo).value(path).content;
}

QList<LocalHubServer::Request> LocalHubServer::fileRequests() const {
    QList<Request> out;
    for (const Request& r : requests_)
        if (r.isFile()) out.append(r);
    return out;
}

QList<LocalHubServer::Request> LocalHubServer::listingRequests() const {
    QList<Request> out;
    for (const Request& r : requests_)
        if (r.isListing()) out.append(r);
    return out;
}

quint16 LocalHubServer::closedPort() {
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    const quint16 port = probe.serverPort();
    probe.close();
    return port;
}

QByteArray LocalHubServer::randomBytes(int size, quint32 seed) {
    QRandomGenerator rng(seed);
    QByteArray out(size, Qt::Uninitialized);
    for (char& c : out) c = static_cast<char>(rng.bounded(256));
    return out;
}

void LocalHubServer::onNewConnection() {
    while (QTcpSocket* socket = server_.nextPendingConnection()) {
        connect(socket, &QTcpSocket::readyRead, this, [this, socket] { onReadable(socket); });
        connect(socket, &QTcpSocket::disconnected, this, [this, socket] {
            buffers_.remove(socket);
            socket->deleteLater();
        });
    }
}

void LocalHubServer::onReadable(QTcpSocket* socket) {
    QByteArray& buffer = buffers_[socket];
    buffer += socket->readAll();
    const qsizetype end = buffer.indexOf("\r\n\r\n");
    if (end < 0) return;
    const QList<QByteArray> lines = buffer.left(end).split('\n');
    buffer.clear();
    Request request;
    const QList<QByteArray> first = lines.value(0).trimmed().split(' ');
    request.method = first.value(0);
    const QByteArray target = first.value(1);
    const qsizetype q = target.indexOf('?');
    request.path = QUrl::fromPercentEncoding(q < 0 ? target : target.left(q));
    request.query = q < 0 ? QByteArray() : target.mid(q + 1);
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray line = lines[i].trimmed();
        const qsizetype colon = line.indexOf(':');
        if (colon > 0)
            request.headers.insert(line.left(colon).trimmed().toLower(), line.mid(colon + 1).trimmed());
    }
    requests_.append(request);
    handle(socket, request);
}

void LocalHubServer::handle(QTcpSocket* socket, const Request& request) {
    const QString path = request.path;
    if (path.startsWith(QLatin1String("/api/models/"))) {
        const qsizetype tree = path.indexOf(QLatin1String("/tree/main"));
        if (tree < 0) return sendSimple(socket, 404);
        serveListing(socket, path.mid(12, tree - 12), request);
        return;
    }
    // "/cdn/<repo>/resolve/main/<path>" is where redirects land; served like the original.
    const bool viaCdn = path.startsWith(QLatin1String("/cdn/"));
    const QString rest = viaCdn ? path.mid(4) : path;
    const qsizetype resolve = rest.indexOf(QLatin1String("/resolve/main/"));
    if (resolve < 0) return sendSimple(socket, 404);
    const QString repo = rest.mid(1, resolve - 1);
    const QString file = rest.mid(resolve + 14);
    if (!viaCdn && modes_.redirect) {
        const QString host =
            modes_.redirectHost.isEmpty() ? QStringLiteral("127.0.0.1") : modes_.redirectHost;
        const QByteArray location =
            QStringLiteral("http://%1:%2/cdn%3").arg(host).arg(port()).arg(path).toUtf8();
        sendSimple(socket, 302, "Location: " + location + "\r\n", "redirecting");
        return;
    }
    serveFile(socket, repo, file, request);
}

void LocalHubServer::serveListing(QTcpSocket* socket, const QString& repo, const Request& request) {
    if (modes_.treeStatus) return sendSimple(socket, modes_.treeStatus);
    if (!repos_.contains(repo)) return sendSimple(socket, 404, {}, R"({"error":"Repository not found"})");
    QJsonArray entries;
    QSet<QString> folders;
    const QHash<QString, File>& files = repos_[repo];
    QStringList paths = files.keys();
    std::sort(paths.begin(), paths.end());
    for (const QString& p : paths) {
        // The real listing has entries for folders too; clients must skip them.
        const QString folder = p.section(QLatin1Char('/'), 0, -2);
        if (!folder.isEmpty() && !folders.contains(folder)) {
            folders.insert(folder);
            entries.append(QJsonObject{{"type", "directory"}, {"oid", "0"}, {"size", 0}, {"path", folder}});
        }
        const File& f = files[p];
        const QByteArray blob = "blob " + QByteArray::number(f.content.size()) + '\0' + f.content;
        QJsonObject entry{
            {"type", "file"},
            {"oid", QString::fromLatin1(QCryptographicHash::hash(blob, QCryptographicHash::Sha1).toHex())},
            {"size", f.content.size()},
            {"path", p}};
        if (f.lfs) {
            entry.insert(
                "lfs",
                QJsonObject{
                    {"oid", QString::fromLatin1(
                                QCryptographicHash::hash(f.content, QCryptographicHash::Sha256).toHex())},
                    {"size", f.content.size()},
                    {"pointerSize", 134}});
        }
        entries.append(entry);
    }
    QByteArray extra;
    if (modes_.pageSize > 0) {
        // Paged like the hub: a cursor in the query, the next page in a Link header.
        const int cursor =
            QUrlQuery(QString::fromLatin1(request.query)).queryItemValue(QStringLiteral("cursor")).toInt();
        QJsonArray page;
        for (int i = cursor; i < std::min<int>(cursor + modes_.pageSize, entries.size()); ++i)
            page.append(entries[i]);
        if (cursor + modes_.pageSize < entries.size()) {
            const QString next = QStringLiteral("%1/api/models/%2/tree/main?recursive=true&cursor=%3")
                                     .arg(endpoint(), repo)
                                     .arg(cursor + modes_.pageSize);
            extra = "Link: <" + next.toUtf8() + ">; rel=\"next\"\r\n";
        }
        entries = page;
    }
    sendSimple(socket, 200, extra + "Content-Type: application/json\r\n", QJsonDocument(entries).toJson());
}

void LocalHubServer::serveFile(QTcpSocket* socket, const QString& repo, const QString& path,
                               const Request& request) {
    ++fileRequests_;
    if (modes_.fileStatus) return sendSimple(socket, modes_.fileStatus, {}, "no");
    if (fileRequests_ <= modes_.failFirstFileRequests) return sendSimple(socket, 503, {}, "busy");
    if (!repos_.value(repo).contains(path)) return sendSimple(socket, 404, {}, "Entry not found");
    QByteArray body = repos_[repo][path].content;
    if (path == modes_.corruptPath && !body.isEmpty())
        body[body.size() / 2] = static_cast<char>(body[body.size() / 2] ^ 0x5a);
    const qint64 size = body.size();

    int status = 200;
    QByteArray extra = "Accept-Ranges: bytes\r\nContent-Type: application/octet-stream\r\n";
    const QByteArray range = request.header("range");
    if (!range.isEmpty() && !modes_.ignoreRange && range.startsWith("bytes=")) {
        const QList<QByteArray> bounds = range.mid(6).split('-');
        const qint64 from = bounds.value(0).toLongLong();
        const qint64 to =
            bounds.value(1).isEmpty() ? size - 1 : std::min(size - 1, bounds.value(1).toLongLong());
        if (modes_.refuseFirstRange) {
            modes_.refuseFirstRange = false;
            return sendSimple(socket, 416, "Content-Range: bytes */" + QByteArray::number(size) + "\r\n");
        }
        if (from >= size)
            return sendSimple(socket, 416, "Content-Range: bytes */" + QByteArray::number(size) + "\r\n");
        status = 206;
        extra += "Content-Range: bytes " + QByteArray::number(from) + '-' + QByteArray::number(to) + '/' +
                 QByteArray::number(size) + "\r\n";
        body = body.mid(from, to - from + 1);
    }
    const QByteArray head = statusLine(status) + "Content-Length: " + QByteArray::number(body.size()) +
                            "\r\n" + extra + "Connection: close\r\n\r\n";
    qint64 dropAfter = -1;
    if (modes_.dropAfterBytes >= 0 && !dropped_ && body.size() > modes_.dropAfterBytes) {
        dropped_ = true;
        dropAfter = modes_.dropAfterBytes;
    }
    sendBody(socket, head, body, dropAfter);
}

void LocalHubServer::sendBody(QTcpSocket* socket, const QByteArray& head, const QByteArray& body,
                              qint64 dropAfter) {
    socket->write(head);
    const QByteArray payload = dropAfter >= 0 ? body.left(dropAfter) : body;
    if (modes_.throttleBytes <= 0) {
        socket->write(payload);
        socket->disconnectFromHost();
        return;
    }
    // Throttled: a timer per connection trickles the body out, so a client can pause mid-file.
    auto* timer = new QTimer(socket);
    auto offset = std::make_shared<qint64>(0);
    const int chunk = modes_.throttleBytes;
    QPointer<QTcpSocket> guard(socket);
    connect(timer, &QTimer::timeout, socket, [guard, timer, offset, payload, chunk] {
        if (!guard || guard->state() != QAbstractSocket::ConnectedState) {
            timer->stop();
            return;
        }
        guard->write(payload.mid(*offset, chunk));
        *offset += chunk;
        if (*offset >= payload.size()) {
            timer->stop();
            guard->disconnectFromHost();
        }
    });
    timer->start(modes_.tickMs);
}

void LocalHubServer::sendSimple(QTcpSocket* socket, int status, const QByteArray& extraHeaders,
                                const QByteArray& body) {
    socket->write(statusLine(status) + "Content-Length: " + QByteArray::number(body.size()) + "\r\n" +
                  extraHeaders + "Connection: close\r\n\r\n" + body);
    socket->disconnectFromHost();
}

}  // namespace gd::test
