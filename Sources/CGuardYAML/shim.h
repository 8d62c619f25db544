// libyaml (Debian: libyaml-dev), the parser under emlab guard's policy files.
#include <yaml.h>
