/*
 * The IPsecLab Linux-oracle agent: runs inside the throwaway VM (docs/linux-oracle.md) as the only program besides
 * busybox and iproute2. It reads a campaign file line by line and answers on a result device, one line per fact:
 *
 *   TUN                                   create the tun device lab0 (raw IP, no packet information)
 *   IP <arguments>                        queue one `ip` command (without the leading "ip")
 *   RUN <tag>                             run the queued commands with `/sbin/ip -batch`   -> "R <tag> <status>"
 *   INJECT <tag> <hex>                    write an IP packet into lab0 as if received, then a sentinel packet, and
 *                                         report what the kernel delivered to the UDP socket on port 4000 and
 *                                         which /proc/net/xfrm_stat counters moved
 *                                         -> "D <tag> <src> <sport> <dst> <dport> <hex payload>" ...
 *                                            "X <tag> <counter> <delta>" ...
 *                                            "I <tag> <delivered count> sentinel|no-sentinel"
 *   SENTINEL <hex>                        register an ESP sentinel packet (see inject)   -> "N <count>"
 *   SEND <tag> <4|6> <src> <sport> <dst> <dport> <hex payload>
 *                                         send a UDP datagram from a local socket and report every packet the
 *                                         kernel wrote to lab0 -> "T <tag> <hex>" ... "S <tag> <count> <errno>"
 *   END                                   -> "E"
 *
 * Every received packet is answered before the next line is read, so the host can match answers to questions. The
 * sentinel (plain UDP 10.0.9.1 -> 10.0.9.2, which no policy covers) is written after the packet under test: the tun
 * device hands packets to the stack in order, so once the sentinel is delivered the packet under test has been
 * processed, whatever its fate. Built with `gcc -static` by scripts/linux-oracle/build-image.sh.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/xfrm.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define MAX_PACKET 65536
#define MAX_LINE (2 * MAX_PACKET + 256)
#define MAX_COUNTERS 256

static FILE *out;
static int tun_fd = -1, sink = -1, sentinel_sock = -1;
static FILE *batch;
static const char *batch_path = "/tmp/ip.batch";

static void fail(const char *what) {
    fprintf(out, "F %s %s\n", what, strerror(errno));
    fflush(out);
    exit(2);
}

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes hex into buf; returns the length or -1. */
static int unhex(const char *s, unsigned char *buf, int max) {
    int n = 0;
    while (s[0] && s[0] != '\n' && s[0] != ' ') {
        int hi = hexval(s[0]), lo = s[1] ? hexval(s[1]) : -1;
        if (hi < 0 || lo < 0 || n >= max) return -1;
        buf[n++] = (unsigned char)(hi << 4 | lo);
        s += 2;
    }
    return n;
}

static void puthex(const unsigned char *b, int n) {
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < n; i++) {
        fputc(digits[b[i] >> 4], out);
        fputc(digits[b[i] & 15], out);
    }
}

struct counters {
    int n;
    char name[MAX_COUNTERS][48];
    unsigned long long value[MAX_COUNTERS];
};

/* XFRM's counters, and IPv6's and UDP's (for drops below XFRM), all "name value" lines. */
static void read_counters(struct counters *c) {
    c->n = 0;
    const char *files[] = {"/proc/net/xfrm_stat", "/proc/net/snmp6"};
    for (int i = 0; i < 2; i++) {
        FILE *f = fopen(files[i], "r");
        if (!f) continue;
        while (c->n < MAX_COUNTERS && fscanf(f, "%47s %llu", c->name[c->n], &c->value[c->n]) == 2) c->n++;
        fclose(f);
    }
}

/* A per-socket policy that lets the socket's own traffic pass in clear, as IKE daemons set on their sockets: since
 * Linux 5.x the inbound policy check runs before UDP decapsulation, so ESP in UDP would otherwise fail it. */
static void bypass(int fd, int family) {
    for (int dir = XFRM_POLICY_IN; dir <= XFRM_POLICY_OUT; dir++) {
        struct xfrm_userpolicy_info p;
        memset(&p, 0, sizeof p);
        p.action = XFRM_POLICY_ALLOW;
        p.sel.family = family;
        p.dir = dir;
        p.lft.soft_byte_limit = p.lft.hard_byte_limit = XFRM_INF;
        p.lft.soft_packet_limit = p.lft.hard_packet_limit = XFRM_INF;
        if (setsockopt(fd, family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6,
                       family == AF_INET ? IP_XFRM_POLICY : IPV6_XFRM_POLICY, &p, sizeof p) < 0)
            fail("socket bypass policy");
    }
}

static void create_tun(void) {
    tun_fd = open("/dev/net/tun", O_RDWR);
    if (tun_fd < 0) fail("open /dev/net/tun");
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    strcpy(ifr.ifr_name, "lab0");
    if (ioctl(tun_fd, TUNSETIFF, &ifr) < 0) fail("TUNSETIFF");
    fcntl(tun_fd, F_SETFL, O_NONBLOCK);

    /* Delivery is what a UDP application receives: the sockets apply the inbound policy check, as Linux does for
     * every local socket. One dual-stack socket on the test port, one for the sentinels. */
    int one = 1, big = 4 << 20;
    sink = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in6 any6 = {.sin6_family = AF_INET6, .sin6_port = htons(4000)};
    if (sink < 0 || bind(sink, (struct sockaddr *)&any6, sizeof any6) < 0) fail("bind 4000");
    setsockopt(sink, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one);
    setsockopt(sink, IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
    setsockopt(sink, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    sentinel_sock = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in any4 = {.sin_family = AF_INET, .sin_port = htons(9999)};
    if (sentinel_sock < 0 || bind(sentinel_sock, (struct sockaddr *)&any4, sizeof any4) < 0) fail("bind 9999");
    /* ESP in UDP (RFC 3948): the kernel decapsulates only on a socket marked UDP_ENCAP_ESPINUDP, as IKE daemons
     * mark theirs. */
    int encap = UDP_ENCAP_ESPINUDP;
    int e4 = socket(AF_INET, SOCK_DGRAM, 0), e6 = socket(AF_INET6, SOCK_DGRAM, 0);
    struct sockaddr_in nat4 = {.sin_family = AF_INET, .sin_port = htons(4500)};
    struct sockaddr_in6 nat6 = {.sin6_family = AF_INET6, .sin6_port = htons(4500)};
    setsockopt(e6, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    bypass(e4, AF_INET);
    bypass(e6, AF_INET6);
    if (e4 < 0 || bind(e4, (struct sockaddr *)&nat4, sizeof nat4) < 0 ||
        setsockopt(e4, IPPROTO_UDP, UDP_ENCAP, &encap, sizeof encap) < 0) fail("udp encap 4");
    if (e6 < 0 || bind(e6, (struct sockaddr *)&nat6, sizeof nat6) < 0 ||
        setsockopt(e6, IPPROTO_UDP, UDP_ENCAP, &encap, sizeof encap) < 0) fail("udp encap 6");
}

static void drain_tun(void) {
    unsigned char buf[MAX_PACKET];
    while (read(tun_fd, buf, sizeof buf) > 0) {}
}

static int run_batch(void) {
    if (batch) {
        fclose(batch);
        batch = NULL;
    } else {
        return 0;
    }
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        execl("/sbin/ip", "ip", "-force", "-batch", batch_path, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

#define MAX_SENTINELS 4
static unsigned char sentinels[MAX_SENTINELS][512];
static int sentinel_lengths[MAX_SENTINELS], sentinel_count;
static const unsigned char sentinel_src[4] = {10, 0, 9, 1};

static int sentinel_packet(unsigned char *p) {
    static unsigned short id;
    memset(p, 0, 32);
    p[0] = 0x45;
    p[3] = 32;
    id++;
    p[4] = id >> 8;
    p[5] = id & 0xff;
    p[8] = 64;
    p[9] = IPPROTO_UDP;
    memcpy(p + 12, sentinel_src, 4);
    p[16] = 10; p[17] = 0; p[18] = 9; p[19] = 2;
    unsigned long sum = 0;
    for (int i = 0; i < 20; i += 2) sum += (unsigned)(p[i] << 8 | p[i + 1]);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    sum = ~sum & 0xffff;
    p[10] = sum >> 8;
    p[11] = sum & 0xff;
    p[20] = 0; p[21] = 9; p[22] = 0x27; p[23] = 0x0f; /* 9 -> 9999 */
    p[24] = 0; p[25] = 12;
    memcpy(p + 28, "sent", 4);
    return 32;
}

/* Reads everything queued on the sockets; returns the number of datagrams reported, and sets *sentinel when the
 * sentinel arrived. */
static int collect(const char *tag, int *sentinel) {
    unsigned char buf[MAX_PACKET];
    int delivered = 0;
    while (recv(sentinel_sock, buf, sizeof buf, 0) >= 0) *sentinel += 1;
    for (;;) {
        struct sockaddr_in6 from;
        char control[256];
        struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf};
        struct msghdr msg = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1,
                             .msg_control = control, .msg_controllen = sizeof control};
        ssize_t n = recvmsg(sink, &msg, 0);
        if (n < 0) break;
        char src[INET6_ADDRSTRLEN] = "?", dst[INET6_ADDRSTRLEN] = "?";
        if (IN6_IS_ADDR_V4MAPPED(&from.sin6_addr)) inet_ntop(AF_INET, &from.sin6_addr.s6_addr[12], src, sizeof src);
        else inet_ntop(AF_INET6, &from.sin6_addr, src, sizeof src);
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
                struct in6_pktinfo info;
                memcpy(&info, CMSG_DATA(c), sizeof info);
                if (IN6_IS_ADDR_V4MAPPED(&info.ipi6_addr)) inet_ntop(AF_INET, &info.ipi6_addr.s6_addr[12], dst, sizeof dst);
                else inet_ntop(AF_INET6, &info.ipi6_addr, dst, sizeof dst);
            } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
                struct in_pktinfo info;
                memcpy(&info, CMSG_DATA(c), sizeof info);
                inet_ntop(AF_INET, &info.ipi_addr, dst, sizeof dst);
            }
        }
        fprintf(out, "D %s %s %u %s 4000 ", tag, src, ntohs(from.sin6_port), dst);
        puthex(buf, (int)n);
        fputc('\n', out);
        delivered++;
    }
    return delivered;
}

static void inject(const char *tag, const char *hex) {
    static unsigned char packet[MAX_PACKET];
    int n = unhex(hex, packet, sizeof packet);
    if (n <= 0) {
        fprintf(out, "B %s bad hex\n", tag);
        return;
    }
    struct counters before, after;
    int sentinel = 0, delivered = 0;
    collect("stale", &sentinel);
    drain_tun();
    sentinel = 0;
    read_counters(&before);
    if (write(tun_fd, packet, n) != n) fprintf(out, "W %s %d\n", tag, errno);
    /* The sentinels: the plain one is handled at once; the ESP ones (registered by the host, one in transport and one
     * in tunnel mode) reach their socket through the same deferred paths as a decapsulated packet (the transport
     * tasklet, the tunnel's GRO cells), in order, so once all are in, the packet under test has been handled. */
    unsigned char s[32];
    int sn = sentinel_packet(s);
    if (write(tun_fd, s, sn) != sn) fprintf(out, "W %s sentinel %d\n", tag, errno);
    for (int i = 0; i < sentinel_count; i++)
        if (write(tun_fd, sentinels[i], sentinel_lengths[i]) != sentinel_lengths[i])
            fprintf(out, "W %s sentinel %d\n", tag, errno);
    for (int waited = 0; waited < 1000 && sentinel < 1 + sentinel_count; waited += 1) {
        struct pollfd fds[2] = {{.fd = sink, .events = POLLIN}, {.fd = sentinel_sock, .events = POLLIN}};
        delivered += collect(tag, &sentinel);
        if (sentinel >= 1 + sentinel_count) break;
        poll(fds, 2, 1);
    }
    delivered += collect(tag, &sentinel);
    read_counters(&after);
    for (int i = 0; i < after.n; i++) {
        unsigned long long old = 0;
        for (int j = 0; j < before.n; j++)
            if (strcmp(before.name[j], after.name[i]) == 0) old = before.value[j];
        if (after.value[i] != old) fprintf(out, "X %s %s %llu\n", tag, after.name[i], after.value[i] - old);
    }
    fprintf(out, "I %s %d %s\n", tag, delivered, sentinel >= 1 + sentinel_count ? "sentinel" : "no-sentinel");
}

static void send_udp(const char *tag, char *args) {
    static unsigned char payload[MAX_PACKET];
    char family[4], src[64], dst[64], hex[MAX_LINE];
    unsigned sport, dport;
    if (sscanf(args, "%3s %63s %u %63s %u %s", family, src, &sport, dst, &dport, hex) != 6) {
        fprintf(out, "B %s bad SEND\n", tag);
        return;
    }
    int n = unhex(hex, payload, sizeof payload);
    if (n < 0) {
        fprintf(out, "B %s bad hex\n", tag);
        return;
    }
    drain_tun();
    int v6 = strcmp(family, "6") == 0;
    int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_storage from, to;
    socklen_t len;
    memset(&from, 0, sizeof from);
    memset(&to, 0, sizeof to);
    if (v6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&from, *b = (struct sockaddr_in6 *)&to;
        a->sin6_family = b->sin6_family = AF_INET6;
        a->sin6_port = htons(sport);
        b->sin6_port = htons(dport);
        inet_pton(AF_INET6, src, &a->sin6_addr);
        inet_pton(AF_INET6, dst, &b->sin6_addr);
        len = sizeof(struct sockaddr_in6);
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&from, *b = (struct sockaddr_in *)&to;
        a->sin_family = b->sin_family = AF_INET;
        a->sin_port = htons(sport);
        b->sin_port = htons(dport);
        inet_pton(AF_INET, src, &a->sin_addr);
        inet_pton(AF_INET, dst, &b->sin_addr);
        len = sizeof(struct sockaddr_in);
    }
    int err = 0;
    if (fd < 0 || bind(fd, (struct sockaddr *)&from, len) < 0) err = errno;
    else if (sendto(fd, payload, n, 0, (struct sockaddr *)&to, len) < 0) err = errno;
    if (fd >= 0) close(fd);
    int count = 0;
    unsigned char buf[MAX_PACKET];
    /* Output is synchronous with software crypto; the short wait covers a deferred transmit. */
    for (int round = 0; round < 3; round++) {
        struct pollfd p = {.fd = tun_fd, .events = POLLIN};
        if (poll(&p, 1, count == 0 && err == 0 ? 50 : 2) <= 0) continue;
        for (;;) {
            ssize_t got = read(tun_fd, buf, sizeof buf);
            if (got <= 0) break;
            fprintf(out, "T %s ", tag);
            puthex(buf, (int)got);
            fputc('\n', out);
            count++;
        }
    }
    fprintf(out, "S %s %d %d\n", tag, count, err);
}

int main(int argc, char **argv) {
    if (argc < 3) return 2;
    FILE *in = fopen(argv[1], "r");
    int ofd = open(argv[2], O_WRONLY | O_NOCTTY);
    if (ofd >= 0) {
        struct termios t;
        if (tcgetattr(ofd, &t) == 0) {
            cfmakeraw(&t);
            cfsetospeed(&t, B4000000);
            tcsetattr(ofd, TCSANOW, &t);
        }
        out = fdopen(ofd, "w");
    }
    if (!out) out = stdout;
    static char line[MAX_LINE];
    setvbuf(out, NULL, _IOFBF, 1 << 16);
    if (!in) fail("open campaign");
    fprintf(out, "H agent 1\n");
    while (fgets(line, sizeof line, in)) {
        line[strcspn(line, "\n")] = 0;
        char *rest = strchr(line, ' ');
        if (rest) *rest++ = 0;
        else rest = line + strlen(line);
        if (strcmp(line, "TUN") == 0) {
            create_tun();
            fprintf(out, "U\n");
        } else if (strcmp(line, "IP") == 0) {
            if (!batch) batch = fopen(batch_path, "w");
            if (!batch) fail("open batch");
            fprintf(batch, "%s\n", rest);
        } else if (strcmp(line, "RUN") == 0) {
            fprintf(out, "R %s %d\n", rest, run_batch());
        } else if (strcmp(line, "INJECT") == 0) {
            char *hex = strchr(rest, ' ');
            if (!hex) continue;
            *hex++ = 0;
            inject(rest, hex);
        } else if (strcmp(line, "SENTINEL") == 0) {
            int n = sentinel_count < MAX_SENTINELS ? unhex(rest, sentinels[sentinel_count], 512) : -1;
            if (n > 0) sentinel_lengths[sentinel_count++] = n;
            fprintf(out, "N %d\n", n > 0 ? sentinel_count : -1);
        } else if (strcmp(line, "SEND") == 0) {
            char *args = strchr(rest, ' ');
            if (!args) continue;
            *args++ = 0;
            send_udp(rest, args);
        } else if (strcmp(line, "END") == 0) {
            break;
        }
    }
    fprintf(out, "E\n");
    fflush(out);
    if (ofd >= 0) tcdrain(ofd);
    return 0;
}
