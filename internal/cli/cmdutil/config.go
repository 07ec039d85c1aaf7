package cmdutil

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"
)

// EnvKeys are the only settings read from the environment (PRODUCT.md §3),
// bound one by one: viper's AutomaticEnv would read any key.
var EnvKeys = map[string]string{
	"server":          "STOMPEST_SERVER",
	"user":            "STOMPEST_USER",
	"password":        "STOMPEST_PASSWORD",
	"vhost":           "STOMPEST_VHOST",
	"connect-timeout": "STOMPEST_CONNECT_TIMEOUT",
}

// NotInFile are global flags that make no sense in a config file.
var NotInFile = map[string]bool{"config": true, "profile": true, "help": true}

// Config is the configuration of one run: the file in use, the selected
// profile and a viper instance holding file, profile, env and flags in
// their order of precedence (flag > env > profile > file > default).
type Config struct {
	V        *viper.Viper
	Path     string              // the config file in use, "" for none
	explicit bool                // the path was named by --config or STOMPEST_CONFIG
	profile  string              // the selected profile, "" for none
	FromFile map[string]bool     // keys set at the top level of the file
	fromProf map[string]bool     // keys set by the selected profile
	perCmd   map[string]any      // "<command>.<flag>" -> its value in the file
	commands map[string][]string // command name -> its own flag names
}

// DefaultConfigPath returns $XDG_CONFIG_HOME/stompest/config.yaml, falling
// back to the platform's user config directory.
func DefaultConfigPath() string {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		var err error
		if dir, err = os.UserConfigDir(); err != nil {
			return ""
		}
	}
	return filepath.Join(dir, "stompest", "config.yaml")
}

// LoadConfig finds, reads and validates the config file, selects the
// profile and binds env and the flags of cmd, the command being run. A
// per-command key is checked against the commands of root, and of all()
// when root lacks its command (all may be nil).
func LoadConfig(root, cmd *cobra.Command, all func() *cobra.Command, errOut func(string)) (*Config, error) {
	c := &Config{V: viper.New(), FromFile: map[string]bool{}, fromProf: map[string]bool{}, perCmd: map[string]any{}, commands: commandFlags(root)}
	flags := cmd.Flags()
	c.Path, c.explicit = FlagOrEnv(flags, "config", "STOMPEST_CONFIG")
	if c.Path == "" {
		c.Path = DefaultConfigPath()
	}
	doc, err := c.read(errOut)
	if err != nil {
		return nil, err
	}
	profiles := map[string]map[string]any{}
	if p, ok := doc["profiles"]; ok {
		m, ok := p.(map[string]any)
		if !ok {
			return nil, ConfigErrorf("config %s: profiles must be a map of profile names to settings", c.Path)
		}
		for name, settings := range m {
			s, ok := settings.(map[string]any)
			if !ok && settings != nil {
				return nil, ConfigErrorf("config %s: profile %s must be a map of settings", c.Path, name)
			}
			for k := range s {
				if !isGlobalKey(root, k) {
					return nil, ConfigErrorf("config %s: profile %s: unknown key %q", c.Path, name, k)
				}
			}
			profiles[name] = s
		}
	}
	top := map[string]any{}
	for k, val := range doc {
		switch {
		case k == "profiles":
		case k == "profile":
			s, ok := val.(string)
			if !ok {
				return nil, ConfigErrorf("config %s: profile must be a profile name", c.Path)
			}
			c.profile = s
		case isGlobalKey(root, k):
			top[k] = val
			c.FromFile[k] = true
		default:
			names, ok := c.commands[k]
			if !ok && all != nil {
				// A key of a command this run did not build.
				c.commands, all = commandFlags(all()), nil
				names, ok = c.commands[k]
			}
			if !ok {
				return nil, ConfigErrorf("config %s: unknown key %q", c.Path, k)
			}
			m, ok := val.(map[string]any)
			if !ok {
				return nil, ConfigErrorf("config %s: %s must be a map of %s flags", c.Path, k, k)
			}
			for sub := range m {
				if !slices.Contains(names, sub) {
					return nil, ConfigErrorf("config %s: %s: unknown key %q", c.Path, k, sub)
				}
				c.FromFile[k+"."+sub] = true
				c.perCmd[k+"."+sub] = m[sub]
			}
			top[k] = m
		}
	}
	if p, _ := FlagOrEnv(flags, "profile", "STOMPEST_PROFILE"); p != "" {
		c.profile = p
	}
	if err := c.V.MergeConfigMap(top); err != nil {
		return nil, ConfigErrorf("config %s: %v", c.Path, err)
	}
	if c.profile != "" {
		settings, ok := profiles[c.profile]
		if !ok {
			known := make([]string, 0, len(profiles))
			for name := range profiles {
				known = append(known, name)
			}
			sort.Strings(known)
			switch {
			case c.Path == "":
				return nil, ConfigErrorf("unknown profile %q: there is no config file, so no profiles are defined (see 'stompest config init')", c.profile)
			case len(known) == 0:
				return nil, ConfigErrorf("unknown profile %q: %s defines no profiles", c.profile, c.Path)
			}
			return nil, ConfigErrorf("unknown profile %q (%s has: %s)", c.profile, c.Path, strings.Join(known, ", "))
		}
		for k := range settings {
			c.fromProf[k] = true
		}
		if err := c.V.MergeConfigMap(settings); err != nil {
			return nil, ConfigErrorf("config %s: profile %s: %v", c.Path, c.profile, err)
		}
	}
	for key, env := range EnvKeys {
		if err := c.V.BindEnv(key, env); err != nil {
			return nil, WithCode(ExitSoftware, err)
		}
	}
	// Bound here, for the command being run only: binding every command's
	// flags up front lets two flags of one name overwrite each other.
	var bindErr error
	flags.VisitAll(func(f *pflag.Flag) {
		if bindErr == nil {
			bindErr = c.V.BindPFlag(c.key(cmd, f), f)
		}
	})
	if bindErr != nil {
		return nil, WithCode(ExitSoftware, bindErr)
	}
	return c, nil
}

// ApplyCommandDefaults gives each flag of cmd that the command line did
// not set the value of its per-command key in the config file
// ("subscribe: {ack: client}"), as if it had been given: the flag's own
// checks apply, and a value a flag refuses is a configuration error (78)
// naming the file and the key.
func (c *Config) ApplyCommandDefaults(cmd *cobra.Command) error {
	var err error
	cmd.LocalNonPersistentFlags().VisitAll(func(f *pflag.Flag) {
		key := c.key(cmd, f)
		val, ok := c.perCmd[key]
		if err != nil || !ok || f.Changed {
			return
		}
		values := []any{val}
		if list, isList := val.([]any); isList {
			values = list
		}
		for _, v := range values {
			if _, nested := v.(map[string]any); nested {
				err = ConfigErrorf("config %s: %s: want a value, not a map", c.Path, key)
				return
			}
			if serr := cmd.Flags().Set(f.Name, fmt.Sprint(v)); serr != nil {
				err = ConfigErrorf("config %s: %s %q: %v", c.Path, key, fmt.Sprint(v), flagReason(serr))
				return
			}
		}
	})
	return err
}

// flagReason is why a flag refused a value, without pflag's wording
// around it.
func flagReason(err error) string {
	if m := badFlagValue.FindStringSubmatch(err.Error()); m != nil {
		return ValueReason(m[3])
	}
	return err.Error()
}

// read parses the config file into a map. A missing default file is an
// empty configuration; a missing named one is an error.
func (c *Config) read(warn func(string)) (map[string]any, error) {
	if c.Path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(c.Path)
	if errors.Is(err, fs.ErrNotExist) && !c.explicit {
		c.Path = ""
		return nil, nil
	}
	if err != nil {
		return nil, ConfigErrorf("config: %v", err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, ConfigErrorf("config %s: %v", c.Path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if runtime.GOOS != "windows" && holdsPassword(doc) {
		if st, err := os.Stat(c.Path); err == nil && st.Mode().Perm()&0o077 != 0 {
			warn(fmt.Sprintf("warning: config %s holds a password and is readable by group or others (chmod 600 %s)", c.Path, c.Path))
		}
	}
	return doc, nil
}

// holdsPassword reports whether a config document sets a password at the
// top level or in a profile.
func holdsPassword(doc map[string]any) bool {
	if _, ok := doc["password"]; ok {
		return true
	}
	profiles, _ := doc["profiles"].(map[string]any)
	for _, p := range profiles {
		if m, ok := p.(map[string]any); ok {
			if _, ok := m["password"]; ok {
				return true
			}
		}
	}
	return false
}

// key is the viper key of a flag of cmd: its name for a global flag,
// "<command>.<name>" for a command's own flag, so that per-command defaults
// live under the command's name in the config file.
func (c *Config) key(cmd *cobra.Command, f *pflag.Flag) string {
	if cmd.Root().PersistentFlags().Lookup(f.Name) != nil {
		return f.Name
	}
	return cmd.Name() + "." + f.Name
}

// Source says where the effective value of key comes from: flag, env,
// profile:NAME, file or default.
func (c *Config) Source(cmd *cobra.Command, key string) string {
	name := key
	if i := strings.LastIndexByte(key, '.'); i >= 0 {
		name = key[i+1:]
	}
	if f := cmd.Flags().Lookup(name); f != nil && f.Changed && c.key(cmd, f) == key {
		return "flag"
	}
	if env, ok := EnvKeys[key]; ok {
		if os.Getenv(env) != "" {
			return "env"
		}
	}
	if c.fromProf[key] {
		return "profile:" + c.profile
	}
	if c.FromFile[key] {
		return "file"
	}
	return "default"
}

// FlagOrEnv returns the value of a flag when given, else of an env
// variable, and whether either was set.
func FlagOrEnv(flags *pflag.FlagSet, name, env string) (string, bool) {
	if f := flags.Lookup(name); f != nil && f.Changed {
		return f.Value.String(), true
	}
	if v, ok := os.LookupEnv(env); ok && v != "" {
		return v, true
	}
	return "", false
}

// isGlobalKey reports whether k names a global flag that may be set in a
// config file.
func isGlobalKey(root *cobra.Command, k string) bool {
	return root.PersistentFlags().Lookup(k) != nil && !NotInFile[k]
}

// commandFlags maps each command's name to the names of its own flags.
func commandFlags(root *cobra.Command) map[string][]string {
	m := map[string][]string{}
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			var names []string
			sub.LocalNonPersistentFlags().VisitAll(func(f *pflag.Flag) {
				if f.Name != "help" {
					names = append(names, f.Name)
				}
			})
			if len(names) > 0 {
				m[sub.Name()] = names
			}
			walk(sub)
		}
	}
	walk(root)
	return m
}
