#ifndef IPSECLAB_CZLIB_SHIM_H
#define IPSECLAB_CZLIB_SHIM_H
#include <zlib.h>
#endif
