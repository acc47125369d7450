#ifndef IPSECLAB_CPCAP_SHIM_H
#define IPSECLAB_CPCAP_SHIM_H
#include <pcap/pcap.h>
#endif
