# Topology, binding and memory placement (hwloc, libnuma): filled in by the topology work.
SB_TOPO_LIBS =
