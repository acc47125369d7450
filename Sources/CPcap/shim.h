#ifndef IPSECLAB_CPCAP_SHIM_H
#define IPSECLAB_CPCAP_SHIM_H
#include <pcap/pcap.h>

/* pcap_dump takes its dumper as the `u_char *user` argument of a pcap_handler callback; Swift sees pcap_dumper_t as
   an OpaquePointer, so this shim only fixes the pointer type. */
static inline void ipseclab_pcap_dump(pcap_dumper_t *dumper, const struct pcap_pkthdr *header, const u_char *data) {
    pcap_dump((u_char *)dumper, header, data);
}

#endif
