/* ovz.h must compile with nothing included before it. */
#include <ovz.h>

/* Uses the macros and types, so that a broken initialiser or typedef shows. */
int header_alone_check(void);
int header_alone_check(void) {
  ovz_create_options create = OVZ_CREATE_OPTIONS_INIT;
  ovz_stop_options stop = OVZ_STOP_OPTIONS_INIT;
  ovz_ubc_stat stat;
  stat.limit = OVZ_UBC_UNLIMITED;
  return (int)(create.size + stop.size + (stat.limit != 0));
}
