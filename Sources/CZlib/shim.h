// zlib's gz* interface reads gzip-compressed and plain files alike (IDX data sets).
#include <zlib.h>
